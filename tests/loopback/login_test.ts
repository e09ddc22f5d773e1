// loginWithBrowser() against the Looker emulator, with the scripted browser
// playing the person: success, declined, timeout, cancel, a pasted URL, and
// authorization endpoints refused before any browser is opened. Also PKCE
// (verifier shape and freshness, S256 only) on the URLs it builds.
import assert from "node:assert/strict";
import {
  type AuthServer,
  discover,
  lookerServer,
  OAuthError,
  startAuthorization,
} from "../../src/core/mod.ts";
import {
  type LookerEmulator,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
import { browse, type BrowseResult } from "../../src/emulator/user_agent.ts";
import { LoginError } from "../../src/loopback/errors.ts";
import {
  type BrowserLoginOptions,
  type BrowserLoginResult,
  loginWithBrowser,
  type WaitingHint,
} from "../../src/loopback/login.ts";
import { startOidcProvider } from "../_oidc_provider.ts";
import { loginErrorWith, oauthErrorWith } from "../_errors.ts";
import { s256 } from "../_pkce.ts";
import { assertPortFree, freePort } from "../_ports.ts";

const CLIENT_ID = "login-tests";

interface Setup extends AsyncDisposable {
  readonly looker: LookerEmulator;
  readonly server: AuthServer;
  readonly port: number;
  readonly redirectUri: string;
}

async function setUp(): Promise<Setup> {
  const port = freePort();
  const redirectUri = `http://localhost:${port}/callback`;
  const looker = await startLookerEmulator({
    apps: [{
      client_guid: CLIENT_ID,
      redirect_uri: redirectUri,
      display_name: "Login tests",
      description: "Signs in from the tests",
      enabled: true,
    }],
  });
  return {
    looker,
    server: lookerServer({
      lookerUrl: looker.lookerUrl,
      apiUrl: looker.apiUrl,
    }),
    port,
    redirectUri,
    [Symbol.asyncDispose]: () => looker.close(),
  };
}

/** loginWithBrowser() with the set-up server, client and redirect URI. */
function loginTo(
  s: Setup,
  options: Omit<BrowserLoginOptions, "server" | "clientId" | "redirectUri">,
): Promise<BrowserLoginResult> {
  return loginWithBrowser({
    server: s.server,
    clientId: CLIENT_ID,
    redirectUri: s.redirectUri,
    ...options,
  });
}

Deno.test("loginWithBrowser() signs in through the emulator's sign-in and consent pages", async () => {
  await using s = await setUp();
  let browsing: Promise<BrowseResult> | undefined;
  const opened: URL[] = [];
  const { tokens, redirectUri } = await loginTo(s, {
    callbackTimeout: 10_000,
    open: (url) => {
      opened.push(url);
      browsing = browse(url);
    },
  });
  const landed = await browsing!;
  assert.equal(opened.length, 1);
  assert.equal(redirectUri, s.redirectUri);
  assert.equal(typeof tokens.accessToken, "string");
  assert.ok(tokens.accessToken.length > 0);
  assert.equal(typeof tokens.refreshToken, "string");
  assert.equal(s.looker.stats.codeExchanges, 1);
  assert.equal(landed.status, 200);
  assert.equal(landed.url.origin, new URL(s.redirectUri).origin);
  assert.match(landed.body, /Signed in/);
  assert.ok(!landed.body.includes(tokens.accessToken));
  assertPortFree(s.port);
});

Deno.test("loginWithBrowser() fails with access_denied when the person denies", async () => {
  await using s = await setUp();
  let browsing: Promise<BrowseResult> | undefined;
  await assert.rejects(
    loginTo(s, {
      callbackTimeout: 10_000,
      open: (url) => {
        browsing = browse(url, { decision: "deny" });
      },
    }),
    oauthErrorWith("access_denied"),
  );
  const landed = await browsing!;
  assert.match(landed.body, /declined/i);
  assert.equal(s.looker.stats.codeExchanges, 0);
  assertPortFree(s.port);
});

Deno.test("loginWithBrowser() times out when no answer comes, and frees the port", async () => {
  await using s = await setUp();
  let opened = 0;
  await assert.rejects(
    loginTo(s, {
      callbackTimeout: 200,
      open: () => {
        opened++;
      },
    }),
    loginErrorWith("timeout"),
  );
  assert.equal(opened, 1);
  assertPortFree(s.port);
  assert.equal(s.looker.stats.codeExchanges, 0);
});

Deno.test("loginWithBrowser() refuses a callbackTimeout a timer cannot hold, and a Looker redirect URI on port 0, before listening", async () => {
  await using s = await setUp();
  let opened = 0;
  const open = () => {
    opened++;
  };
  for (const callbackTimeout of [2 ** 31, 1e12, Infinity, 0, -1, NaN]) {
    await assert.rejects(
      loginTo(s, { callbackTimeout, open }),
      oauthErrorWith("invalid_argument"),
      String(callbackTimeout),
    );
  }
  await assert.rejects(
    loginWithBrowser({
      server: s.server,
      clientId: CLIENT_ID,
      redirectUri: "http://localhost:0/callback",
      open,
    }),
    oauthErrorWith("invalid_argument"),
  );
  assert.equal(opened, 0);
  assertPortFree(s.port);
  assert.equal(s.looker.stats.authorizations, 0);
});

Deno.test("loginWithBrowser() stops with cancelled on the abort signal, and frees the port", async () => {
  await using s = await setUp();
  const controller = new AbortController();
  await assert.rejects(
    loginTo(s, {
      signal: controller.signal,
      open: () => controller.abort(),
    }),
    loginErrorWith("cancelled"),
  );
  assertPortFree(s.port);
});

Deno.test("loginWithBrowser() with an already aborted signal opens nothing and stops with cancelled", async () => {
  await using s = await setUp();
  let opened = 0;
  await assert.rejects(
    loginTo(s, {
      signal: AbortSignal.abort(),
      open: () => {
        opened++;
      },
    }),
    loginErrorWith("cancelled"),
  );
  assert.equal(opened, 0, "the browser was opened after the cancel");
  assertPortFree(s.port);
});

Deno.test("loginWithBrowser() reports port_in_use naming the port", async () => {
  await using s = await setUp();
  using _blocker = Deno.listen({ hostname: "127.0.0.1", port: s.port });
  let opened = 0;
  await assert.rejects(
    loginTo(s, {
      open: () => {
        opened++;
      },
    }),
    (err: unknown) => {
      loginErrorWith("port_in_use")(err);
      assert.ok((err as Error).message.includes(String(s.port)));
      return true;
    },
  );
  assert.equal(opened, 0, "the browser was opened with nothing listening");
});

/** An async iterable of lines the test feeds one by one. */
function lines(): {
  iterable: AsyncIterable<string>;
  push(line: string): void;
} {
  const queue: string[] = [];
  let wake = Promise.withResolvers<void>();
  return {
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length > 0) yield queue.shift()!;
          await wake.promise;
          wake = Promise.withResolvers<void>();
        }
      },
    },
    push(line) {
      queue.push(line);
      wake.resolve();
    },
  };
}

Deno.test("loginWithBrowser() accepts the redirected URL pasted by the person, after refusing a forged one", async () => {
  await using s = await setUp();
  const origin = new URL(s.redirectUri).origin;
  const pasted = lines();
  const rejected: OAuthError[] = [];
  const callbacks: string[] = [];
  let browsing: Promise<BrowseResult> | undefined;
  // The browser on "another machine": it cannot reach the receiver, so the
  // request to the redirect URI never happens; the person copies the URL.
  const elsewhere: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin === origin) {
      callbacks.push(url.href);
      return Promise.resolve(
        new Response("This site can't be reached", { status: 502 }),
      );
    }
    return fetch(input, init);
  };
  const login = loginTo(s, {
    callbackTimeout: 10_000,
    pasted: pasted.iterable,
    onPasteRejected: (err) => {
      rejected.push(err);
      if (rejected.length === 2) {
        // Only now does the person finish in the other browser and paste.
        browsing!.then(() => pasted.push(`  ${callbacks[0]}  `));
      }
    },
    open: (url) => {
      browsing = browse(url, { fetch: elsewhere });
      pasted.push(
        `${s.redirectUri}?&code=forged-code&state=forged-state-0123456789`,
      );
      pasted.push("");
      pasted.push("this is not a URL");
    },
  });
  const { tokens } = await login;
  await browsing;
  assert.deepEqual(rejected.map((e) => e.code), [
    "state_mismatch",
    "invalid_callback",
  ]);
  assert.ok(rejected.every((e) => e instanceof OAuthError));
  assert.equal(callbacks.length, 1);
  assert.match(callbacks[0]!, /[?&]code=/);
  assert.equal(typeof tokens.accessToken, "string");
  assert.equal(s.looker.stats.codeExchanges, 1);
  assertPortFree(s.port);
});

// Endpoints refused before any browser is launched -------------------------

function handBuilt(
  authorizationEndpoint: string,
  allowInsecureHttp: boolean,
): AuthServer {
  return {
    metadata: {
      issuer: "https://evil.example",
      authorization_endpoint: authorizationEndpoint,
      token_endpoint: "https://evil.example/token",
    },
    allowInsecureHttp,
  };
}

for (
  const [what, server, check] of [
    [
      "an http: authorization endpoint off loopback",
      handBuilt("http://evil.example/auth", false),
      oauthErrorWith("insecure_http"),
    ],
    [
      "an http: authorization endpoint off loopback, even with insecure HTTP allowed",
      handBuilt("http://evil.example/auth", true),
      loginErrorWith("unsafe_url"),
    ],
    [
      "a javascript: authorization endpoint",
      handBuilt("javascript:alert(document.cookie)//", true),
      oauthErrorWith("invalid_argument"),
    ],
    [
      "a file: authorization endpoint",
      handBuilt("file:///etc/passwd", true),
      oauthErrorWith("invalid_argument"),
    ],
    [
      "an authorization endpoint with shell metacharacters",
      handBuilt("https://evil.example/$(touch${IFS}pwned)`id`", false),
      loginErrorWith("unsafe_url"),
    ],
  ] as const
) {
  Deno.test(`loginWithBrowser() refuses ${what} before opening anything`, async () => {
    const port = freePort();
    let opened = 0;
    const urls: URL[] = [];
    await assert.rejects(
      loginWithBrowser({
        server,
        clientId: CLIENT_ID,
        redirectUri: `http://localhost:${port}/callback`,
        // Were the URL let through, fail soon rather than wait 5 minutes.
        callbackTimeout: 1_000,
        open: () => {
          opened++;
        },
        onUrl: (url) => urls.push(url),
      }),
      check,
    );
    assert.equal(opened, 0, "open was called");
    assert.deepEqual(urls, [], "onUrl was called");
    assertPortFree(port);
  });
}

// PKCE ------------------------------------------------------------------------

Deno.test("startAuthorization() uses a fresh 43-128 character unreserved verifier, S256 and never plain", async () => {
  const server = lookerServer({ lookerUrl: "https://example.looker.com" });
  const verifiers = new Set<string>();
  const states = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const started = await startAuthorization(server, {
      clientId: CLIENT_ID,
      redirectUri: "http://localhost:8080/callback",
    });
    assert.match(started.codeVerifier, /^[A-Za-z0-9\-._~]{43,128}$/);
    verifiers.add(started.codeVerifier);
    states.add(started.state);
    const params = started.url.searchParams;
    assert.deepEqual(params.getAll("code_challenge_method"), ["S256"]);
    assert.deepEqual(params.getAll("code_challenge"), [
      await s256(started.codeVerifier),
    ]);
    assert.ok(
      !params.getAll("code_challenge").includes(started.codeVerifier),
      "the verifier was sent as the challenge (plain)",
    );
    assert.ok(!started.url.href.includes(started.codeVerifier));
    assert.doesNotMatch(started.url.href, /plain/i);
  }
  assert.equal(verifiers.size, 20, "a verifier was reused");
  assert.equal(states.size, 20, "a state was reused");
});

Deno.test("loginWithBrowser() sends a fresh verifier and state on every login", async () => {
  await using s = await setUp();
  const seen: URL[] = [];
  for (let i = 0; i < 2; i++) {
    const controller = new AbortController();
    await assert.rejects(
      loginTo(s, {
        signal: controller.signal,
        open: (url) => {
          seen.push(url);
          controller.abort();
        },
      }),
      LoginError,
    );
  }
  assert.equal(seen.length, 2);
  const [a, b] = seen.map((u) => u.searchParams);
  assert.notEqual(a!.get("state"), b!.get("state"));
  assert.notEqual(a!.get("code_challenge"), b!.get("code_challenge"));
  assert.equal(a!.get("code_challenge_method"), "S256");
});

Deno.test("loginWithBrowser() on a picked port, at a provider that matches redirect URIs exactly: one hint while waiting, and again on timeout", async () => {
  const fixed = `http://127.0.0.1:${freePort()}/callback`;
  await using op = await startOidcProvider({
    exactRedirectUris: true,
    redirectUris: [fixed],
  });
  const server = await discover(op.issuer);
  const hints: WaitingHint[] = [];
  let page: Promise<BrowseResult> | undefined;
  await assert.rejects(
    loginWithBrowser({
      server,
      clientId: op.clientId,
      redirectUri: "http://127.0.0.1/callback",
      scope: "openid",
      hintAfter: 50,
      callbackTimeout: 1_500,
      open: (url) => {
        page = browse(url);
      },
      onStillWaiting: (hint) => hints.push(hint),
    }),
    (err) => {
      loginErrorWith("timeout")(err);
      assert.equal(hints.length, 1, "the hint came once, before the timeout");
      const { redirectUri, hint } = hints[0]!;
      assert.notEqual(new URL(redirectUri).port, "");
      assert.equal((err as LoginError).redirectUri, redirectUri);
      assert.equal((err as LoginError).hint, hint);
      assert.ok(hint.includes(redirectUri), hint);
      return true;
    },
  );
  // The person saw the provider's error page; no callback ever came.
  const shown = await page!;
  assert.equal(shown.status, 400);
  assert.match(shown.body, /redirect_uri/);
  assert.equal(op.stats.tokenRequests, 0);

  // With the registered, fixed port: signed in, and nothing to hint.
  const { tokens } = await loginWithBrowser({
    server,
    clientId: op.clientId,
    redirectUri: fixed,
    scope: "openid",
    hintAfter: 1,
    callbackTimeout: 10_000,
    open: (url) => {
      page = browse(url);
    },
    onStillWaiting: (hint) => hints.push(hint),
  });
  assert.ok(tokens.idToken);
  assert.equal((await page!).status, 200);
  assert.equal(hints.length, 1, "no hint for a fixed port");
});

Deno.test("loginWithBrowser() with a fixed port gives no fixed-port hint while waiting or on timeout", async () => {
  await using s = await setUp();
  const hints: WaitingHint[] = [];
  await assert.rejects(
    loginTo(s, {
      hintAfter: 1,
      callbackTimeout: 300,
      open: () => {},
      onStillWaiting: (hint) => hints.push(hint),
    }),
    (err) => {
      loginErrorWith("timeout")(err);
      assert.ok(!(err as LoginError).hint?.includes("fixed"));
      return true;
    },
  );
  assert.deepEqual(hints, []);
});
