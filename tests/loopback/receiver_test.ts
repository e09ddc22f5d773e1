// The loopback redirect receiver against real HTTP requests on loopback:
// forged, declined, mixed-up and repeated callbacks, stray paths and methods,
// DNS rebinding, reachability from other addresses, both address families,
// ports in use, and what the pages it serves contain.
import assert from "node:assert/strict";
import {
  type AuthServer,
  lookerServer,
  OAuthError,
  oauthServer,
  parseCallback,
} from "../../src/core/mod.ts";
import type { LoginError } from "../../src/loopback/errors.ts";
import {
  type LoopbackReceiver,
  startLoopbackReceiver,
} from "../../src/loopback/receiver.ts";
import { loginErrorWith, oauthErrorWith } from "../_errors.ts";
import { assertPortFree, freePort } from "../_ports.ts";

// Recognisable values: if any of them shows up in a page, it was echoed.
const STATE = "PLANTED-STATE-4f1c9e0b7d2a6c35e8b1";
const CODE = "PLANTED-CODE-9a7e3b5d1c2f4e6a8b0c";
const TOKEN = "PLANTED-ACCESS-TOKEN-c0ffee1234abcd";
const ISSUER = "https://id.example.com";

const looker = lookerServer({ lookerUrl: "https://example.looker.com" });
/** A server promising `iss` in every authorization response (RFC 9207). */
const rfc9207 = oauthServer({
  issuer: ISSUER,
  authorizationEndpoint: `${ISSUER}/authorize`,
  tokenEndpoint: `${ISSUER}/token`,
  issParameterSupported: true,
});

interface Harness extends AsyncDisposable {
  readonly receiver: LoopbackReceiver<{ accessToken: string }>;
  /** The codes `finish` was called with. */
  readonly finished: string[];
  /** `http://host:port` of the receiver. */
  readonly origin: string;
  readonly port: number;
  /** The callback URL with `query` appended. */
  callback(query: string): string;
}

async function start(
  options: {
    server?: AuthServer;
    redirectUri?: string;
    finish?: (code: string) => Promise<{ accessToken: string }>;
  } = {},
): Promise<Harness> {
  const server = options.server ?? looker;
  const finished: string[] = [];
  const receiver = await startLoopbackReceiver({
    redirectUri: options.redirectUri ?? "http://127.0.0.1:0/callback",
    parse: (url) => parseCallback(server, url, { state: STATE }),
    finish: (code) => {
      finished.push(code);
      return options.finish?.(code) ??
        Promise.resolve({ accessToken: TOKEN });
    },
  });
  const redirect = new URL(receiver.redirectUri);
  return {
    receiver,
    finished,
    origin: redirect.origin,
    port: Number(redirect.port),
    callback: (query) => `${receiver.redirectUri}?${query}`,
    [Symbol.asyncDispose]: () => receiver.close(),
  };
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: "manual", ...init });
  return {
    status: response.status,
    headers: response.headers,
    body: await response.text(),
  };
}

/**
 * Sends one raw HTTP/1.1 request over TCP, so that the `Host` header (or its
 * absence) is exactly what the test says.
 */
async function raw(
  hostname: string,
  port: number,
  target: string,
  host: string | undefined,
): Promise<Answer> {
  const conn = await Deno.connect({ hostname, port });
  try {
    const lines = [`GET ${target} HTTP/1.1`];
    if (host !== undefined) lines.push(`Host: ${host}`);
    lines.push("Connection: close", "", "");
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(
      new Uint8Array(chunks.flatMap((c) => [...c])),
    );
    const [head = "", ...rest] = text.split("\r\n\r\n");
    const [statusLine = "", ...headerLines] = head.split("\r\n");
    const headers = new Headers();
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
      }
    }
    return {
      status: Number(statusLine.split(" ")[1]),
      headers,
      body: rest.join("\r\n\r\n"),
    };
  } finally {
    conn.close();
  }
}

const GOOD = `code=${CODE}&state=${STATE}`;

/** Finishes the login with a valid callback and checks it succeeded once. */
async function completes(h: Harness): Promise<void> {
  const answer = await get(h.callback(`&${GOOD}`));
  assert.equal(answer.status, 200);
  assert.deepEqual(await h.receiver.result, { accessToken: TOKEN });
  assert.deepEqual(h.finished, [CODE]);
  assert.equal(h.receiver.phase, "done");
}

// 1. Forged state -----------------------------------------------------------

Deno.test("startLoopbackReceiver() ignores a forged state", async () => {
  await using h = await start();
  const answer = await get(h.callback(`code=${CODE}&state=forged-state`));
  assert.equal(answer.status, 400);
  assert.match(answer.headers.get("content-type") ?? "", /^text\/html/);
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "waiting");
  await completes(h);
});

Deno.test("startLoopbackReceiver() ignores a callback without state", async () => {
  await using h = await start();
  const answer = await get(h.callback(`code=${CODE}`));
  assert.equal(answer.status, 400);
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "waiting");
  await completes(h);
});

// 2. Declined -----------------------------------------------------------------

Deno.test("startLoopbackReceiver() fails the login on error=access_denied with the right state", async () => {
  await using h = await start();
  const answer = await get(
    h.callback(`error=access_denied&state=${STATE}`),
  );
  assert.ok(answer.status >= 400 && answer.status < 500, `${answer.status}`);
  assert.match(answer.body, /declined/i);
  await assert.rejects(h.receiver.result, oauthErrorWith("access_denied"));
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "done");
});

// 3. Error callbacks that are not ours ------------------------------------------

Deno.test("startLoopbackReceiver() ignores error=access_denied with a forged state", async () => {
  await using h = await start();
  const answer = await get(h.callback("error=access_denied&state=forged"));
  assert.equal(answer.status, 400);
  assert.equal(h.receiver.phase, "waiting");
  await completes(h);
});

Deno.test("startLoopbackReceiver() ignores an error callback without state", async () => {
  await using h = await start();
  for (const error of ["access_denied", "server_error", "invalid_request"]) {
    const answer = await get(h.callback(`error=${error}`));
    assert.equal(answer.status, 400);
    assert.equal(h.receiver.phase, "waiting");
  }
  await completes(h);
});

// 4. iss (RFC 9207) ---------------------------------------------------------------

Deno.test("startLoopbackReceiver() rejects a callback whose iss is another server's", async () => {
  await using h = await start({ server: rfc9207 });
  const answer = await get(
    h.callback(`${GOOD}&iss=${encodeURIComponent("https://evil.example")}`),
  );
  assert.equal(answer.status, 400);
  await assert.rejects(h.receiver.result, oauthErrorWith("iss_mismatch"));
  assert.deepEqual(h.finished, [], "a code exchange was attempted");
});

Deno.test("startLoopbackReceiver() rejects a callback without iss when the server promises one", async () => {
  await using h = await start({ server: rfc9207 });
  const answer = await get(h.callback(GOOD));
  assert.equal(answer.status, 400);
  await assert.rejects(h.receiver.result, oauthErrorWith("iss_mismatch"));
  assert.deepEqual(h.finished, []);
});

Deno.test("startLoopbackReceiver() accepts the promised iss when it names the server", async () => {
  await using h = await start({ server: rfc9207 });
  const answer = await get(
    h.callback(`${GOOD}&iss=${encodeURIComponent(ISSUER)}`),
  );
  assert.equal(answer.status, 200);
  assert.deepEqual(await h.receiver.result, { accessToken: TOKEN });
  assert.deepEqual(h.finished, [CODE]);
});

// 5. Duplicated parameters ----------------------------------------------------------

Deno.test("startLoopbackReceiver() rejects a duplicated code", async () => {
  await using h = await start();
  const answer = await get(h.callback(`${GOOD}&code=second-code`));
  assert.equal(answer.status, 400);
  await assert.rejects(h.receiver.result, oauthErrorWith("invalid_callback"));
  assert.deepEqual(h.finished, []);
});

Deno.test("startLoopbackReceiver() ignores a duplicated state", async () => {
  await using h = await start();
  const answer = await get(h.callback(`${GOOD}&state=${STATE}`));
  assert.equal(answer.status, 400);
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "waiting");
  await completes(h);
});

Deno.test("startLoopbackReceiver() rejects a duplicated iss", async () => {
  await using h = await start({ server: rfc9207 });
  const iss = encodeURIComponent(ISSUER);
  const answer = await get(h.callback(`${GOOD}&iss=${iss}&iss=${iss}`));
  assert.equal(answer.status, 400);
  await assert.rejects(h.receiver.result, oauthErrorWith("invalid_callback"));
  assert.deepEqual(h.finished, []);
});

// 6. One callback only ----------------------------------------------------------------

Deno.test("startLoopbackReceiver() answers a second callback after success with 409", async () => {
  await using h = await start();
  await completes(h);
  const again = await get(h.callback(GOOD));
  assert.equal(again.status, 409);
  assert.deepEqual(h.finished, [CODE], "finish ran twice");
});

Deno.test("startLoopbackReceiver() answers a callback arriving during the exchange with 409", async () => {
  const release = Promise.withResolvers<void>();
  const entered = Promise.withResolvers<void>();
  await using h = await start({
    finish: async () => {
      entered.resolve();
      await release.promise;
      return { accessToken: TOKEN };
    },
  });
  const first = get(h.callback(GOOD));
  await entered.promise;
  assert.equal(h.receiver.phase, "busy");
  const second = await get(h.callback(GOOD));
  assert.equal(second.status, 409);
  release.resolve();
  assert.equal((await first).status, 200);
  assert.deepEqual(h.finished, [CODE]);
});

// 7. Other paths ------------------------------------------------------------------------

Deno.test("startLoopbackReceiver() answers other paths with 404 and keeps waiting", async () => {
  await using h = await start();
  for (
    const path of [
      "/favicon.ico",
      "/",
      "/callback/",
      "/callback/x",
      "/CALLBACK",
      "/robots.txt",
    ]
  ) {
    const answer = await get(`${h.origin}${path}?${GOOD}`);
    assert.equal(answer.status, 404, path);
    assert.equal(answer.headers.get("location"), null);
  }
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "waiting");
  await completes(h);
});

// 8. Other methods --------------------------------------------------------------------------

Deno.test("startLoopbackReceiver() answers POST, PUT and OPTIONS with 405 and no CORS headers", async () => {
  await using h = await start();
  for (const method of ["POST", "PUT", "OPTIONS", "DELETE", "PATCH"]) {
    const answer = await get(h.callback(GOOD), {
      method,
      headers: {
        origin: "https://evil.example",
        "access-control-request-method": "GET",
        ...(method === "OPTIONS" ? {} : {
          "content-type": "application/x-www-form-urlencoded",
        }),
      },
      ...(method === "OPTIONS" ? {} : { body: GOOD }),
    });
    assert.equal(answer.status, 405, method);
    assert.equal(answer.headers.get("allow"), "GET", method);
    const cors = [...answer.headers.keys()].filter((name) =>
      name.startsWith("access-control-")
    );
    assert.deepEqual(cors, [], `${method} answered with ${cors}`);
  }
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "waiting");
  await completes(h);
});

// 9. DNS rebinding ------------------------------------------------------------------------------

Deno.test("startLoopbackReceiver() answers a foreign Host header with 421 and consumes nothing", async () => {
  await using h = await start();
  const target = `/callback?${GOOD}`;
  for (
    const host of [
      `evil.example:${h.port}`,
      "evil.example",
      `localhost:${h.port}`, // the redirect URI says 127.0.0.1
      `127.0.0.1:${h.port + 1}`,
      `127.0.0.1`,
    ]
  ) {
    const answer = await raw("127.0.0.1", h.port, target, host);
    assert.equal(answer.status, 421, host);
    assert.doesNotMatch(answer.body, new RegExp(CODE), host);
  }
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "waiting");
  // The same request with the right Host goes through.
  const answer = await raw("127.0.0.1", h.port, target, `127.0.0.1:${h.port}`);
  assert.equal(answer.status, 200);
  assert.deepEqual(await h.receiver.result, { accessToken: TOKEN });
  assert.deepEqual(h.finished, [CODE]);
});

Deno.test("startLoopbackReceiver() refuses a request without a Host header", async () => {
  await using h = await start();
  const answer = await raw("127.0.0.1", h.port, `/callback?${GOOD}`, undefined);
  assert.ok(answer.status >= 400 && answer.status < 500, `${answer.status}`);
  assert.deepEqual(h.finished, []);
  assert.equal(h.receiver.phase, "waiting");
  await completes(h);
});

// 10. Other addresses of this machine -----------------------------------------------------------

const outside = Deno.networkInterfaces().filter((i) =>
  !i.address.startsWith("127.") && i.address !== "::1" &&
  !i.address.startsWith("fe80:") // link-local needs a scope id
);

Deno.test({
  name:
    "startLoopbackReceiver() is unreachable from the machine's non-loopback addresses",
  ignore: outside.length === 0,
  // Reason when ignored: this machine has no network address but loopback.
  fn: async () => {
    await using h = await start({
      redirectUri: `http://localhost:${freePort()}/callback`,
    });
    for (const address of h.receiver.addresses) {
      assert.match(address, /^(127\.0\.0\.1|\[::1\]):\d+$/);
    }
    for (const { address } of outside) {
      await assert.rejects(
        Deno.connect({ hostname: address, port: h.port }),
        Deno.errors.ConnectionRefused,
        `the receiver answers on ${address}`,
      );
    }
    assert.equal(h.receiver.phase, "waiting");
  },
});

// 11. localhost over both families ----------------------------------------------------------------

Deno.test("startLoopbackReceiver() answers a localhost redirect over ::1", async () => {
  await using h = await start({
    redirectUri: `http://localhost:${freePort()}/callback`,
  });
  assert.deepEqual(h.receiver.addresses, [
    `127.0.0.1:${h.port}`,
    `[::1]:${h.port}`,
  ]);
  const answer = await raw(
    "::1",
    h.port,
    `/callback?&${GOOD}`,
    `localhost:${h.port}`,
  );
  assert.equal(answer.status, 200);
  assert.deepEqual(await h.receiver.result, { accessToken: TOKEN });
});

Deno.test("startLoopbackReceiver() answers a localhost redirect over 127.0.0.1", async () => {
  await using h = await start({
    redirectUri: `http://localhost:${freePort()}/callback`,
  });
  const answer = await raw(
    "127.0.0.1",
    h.port,
    `/callback?&${GOOD}`,
    `localhost:${h.port}`,
  );
  assert.equal(answer.status, 200);
  assert.deepEqual(await h.receiver.result, { accessToken: TOKEN });
});

Deno.test("startLoopbackReceiver() listens on one address for a [::1] redirect", async () => {
  await using h = await start({ redirectUri: "http://[::1]:0/callback" });
  assert.deepEqual(h.receiver.addresses, [`[::1]:${h.port}`]);
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: h.port }),
    Deno.errors.ConnectionRefused,
  );
  await completes(h);
});

// 12. Ports -----------------------------------------------------------------------------------------

Deno.test("startLoopbackReceiver() names the port when a fixed port is in use", async () => {
  using blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (blocker.addr as Deno.NetAddr).port;
  await assert.rejects(
    startLoopbackReceiver({
      redirectUri: `http://127.0.0.1:${port}/callback`,
      parse: () => CODE,
      finish: () => Promise.resolve(0),
    }),
    (err: unknown) => {
      loginErrorWith("port_in_use")(err);
      assert.ok((err as LoginError).message.includes(String(port)));
      assert.ok((err as LoginError).hint?.includes(String(port)));
      return true;
    },
  );
});

Deno.test("startLoopbackReceiver() fails on a localhost port taken on ::1 only, and releases 127.0.0.1", async () => {
  const port = freePort();
  using _blocker = Deno.listen({ hostname: "::1", port });
  await assert.rejects(
    startLoopbackReceiver({
      redirectUri: `http://localhost:${port}/callback`,
      parse: () => CODE,
      finish: () => Promise.resolve(0),
    }),
    loginErrorWith("port_in_use"),
  );
  assertPortFree(port, ["127.0.0.1"]);
});

Deno.test("startLoopbackReceiver() picks another free port in any-port mode", async () => {
  using blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const taken = (blocker.addr as Deno.NetAddr).port;
  for (
    const options of [
      { redirectUri: "http://127.0.0.1/callback", anyPort: true },
      { redirectUri: "http://127.0.0.1:0/callback" },
      { redirectUri: "http://localhost:0/callback" },
    ]
  ) {
    await using receiver = await startLoopbackReceiver({
      ...options,
      parse: () => CODE,
      finish: () => Promise.resolve(0),
    });
    const url = new URL(receiver.redirectUri);
    assert.notEqual(url.port, "");
    assert.notEqual(url.port, "0");
    assert.notEqual(Number(url.port), taken);
    assert.equal(url.pathname, "/callback");
    assert.equal(
      url.hostname,
      new URL(options.redirectUri).hostname,
      "the host was changed",
    );
  }
});

Deno.test("startLoopbackReceiver() refuses a redirect URI off loopback", async () => {
  for (
    const redirectUri of [
      "http://0.0.0.0:8080/callback",
      "http://example.com:8080/callback",
      "https://localhost:8080/callback",
      "http://192.0.2.2:8080/callback",
      "not a url",
    ]
  ) {
    await assert.rejects(
      startLoopbackReceiver({
        redirectUri,
        parse: () => CODE,
        finish: () => Promise.resolve(0),
      }),
      loginErrorWith("not_loopback"),
      redirectUri,
    );
  }
});

Deno.test("startLoopbackReceiver() says which part of a refused redirect URI is wrong", async () => {
  for (
    const [redirectUri, wrong] of [
      ["myapp://callback", /uses myapp:/],
      ["com.example.app:/cb", /uses com\.example\.app:/],
      ["https://localhost:8080/callback", /uses https:/],
      ["http://example.com:8080/callback", /example\.com:8080 is not/],
    ] as const
  ) {
    await assert.rejects(
      startLoopbackReceiver({
        redirectUri,
        parse: () => CODE,
        finish: () => Promise.resolve(0),
      }),
      (err: LoginError) => {
        loginErrorWith("not_loopback")(err);
        assert.match(err.message, wrong);
        assert.doesNotMatch(err.message, /\bnull\b/);
        return true;
      },
      redirectUri,
    );
  }
});

// 14. The pages -------------------------------------------------------------------------------------

function assertSafePage(answer: Answer, what: string): void {
  for (const secret of [CODE, STATE, TOKEN]) {
    assert.ok(!answer.body.includes(secret), `${what} echoes ${secret}`);
  }
  assert.equal(answer.headers.get("location"), null, `${what} redirects`);
  assert.ok(answer.status < 300 || answer.status >= 400, `${what} redirects`);
  assert.equal(answer.headers.get("cache-control"), "no-store", what);
  assert.equal(answer.headers.get("referrer-policy"), "no-referrer", what);
  assert.doesNotMatch(answer.body, /evil\.example/, what);
}

function assertHtmlPage(answer: Answer, what: string): void {
  assertSafePage(answer, what);
  assert.match(answer.headers.get("content-type") ?? "", /^text\/html/, what);
  const csp = answer.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/, what);
  // The page's one script is allowed by its nonce, and by nothing else.
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce, `${what}: no script nonce in ${csp}`);
  assert.ok(answer.body.includes(`<script nonce="${nonce}">`), what);
  assert.doesNotMatch(csp, /unsafe-inline'[^;]*script|script-src[^;]*unsafe/);
}

Deno.test("startLoopbackReceiver() pages never echo the code, state or tokens, and never redirect", async () => {
  await using h = await start();
  const evil = encodeURIComponent("https://evil.example/steal");
  const lure = `redirect=${evil}&next=${evil}&return_to=${evil}`;
  assertHtmlPage(
    await get(h.callback(`code=${CODE}&state=wrong-${STATE}&${lure}`)),
    "the forged-state page",
  );
  assertSafePage(
    await get(`${h.origin}/favicon.ico?${GOOD}&${lure}`),
    "the 404 answer",
  );
  assertSafePage(
    await get(h.callback(`${GOOD}&${lure}`), { method: "POST" }),
    "the 405 answer",
  );
  const success = await get(h.callback(`&${GOOD}&${lure}`));
  assert.equal(success.status, 200);
  assertHtmlPage(success, "the success page");
  assert.match(success.body, /Signed in/);
  assertHtmlPage(
    await get(h.callback(`${GOOD}&${lure}`)),
    "the already-used page",
  );
});

Deno.test("startLoopbackReceiver() declined page is safe too", async () => {
  await using h = await start();
  const evil = encodeURIComponent("https://evil.example/steal");
  const answer = await get(
    h.callback(`error=access_denied&state=${STATE}&redirect=${evil}`),
  );
  assertHtmlPage(answer, "the declined page");
  await assert.rejects(h.receiver.result, OAuthError);
});

Deno.test("startLoopbackReceiver() failure page HTML-escapes a hostile error_description", async () => {
  await using h = await start();
  const hostile =
    `<script>alert("pwned")</script><img src=x onerror=alert(1)>'"&`;
  const answer = await get(
    h.callback(
      `error=server_error&state=${STATE}&error_description=${
        encodeURIComponent(hostile)
      }`,
    ),
  );
  assert.equal(answer.status, 400);
  assertHtmlPage(answer, "the failure page");
  assert.ok(!answer.body.includes("<script>alert"), "unescaped <script>");
  assert.ok(!answer.body.includes("<img"), "unescaped <img>");
  assert.ok(!answer.body.includes(`"pwned"`), "unescaped quotes");
  // The description is still there for the person, escaped.
  assert.match(answer.body, /&#60;script&#62;alert\(&#34;pwned&#34;\)/);
  await assert.rejects(
    h.receiver.result,
    oauthErrorWith("authorization_error"),
  );
});

Deno.test("startLoopbackReceiver() failure page does not repeat a code or state quoted by the server", async () => {
  await using h = await start();
  const answer = await get(
    h.callback(
      `error=server_error&state=${STATE}&code=${CODE}&error_description=${
        encodeURIComponent(`state ${STATE} and code ${CODE} were refused`)
      }`,
    ),
  );
  assertHtmlPage(answer, "the failure page");
  await assert.rejects(h.receiver.result, OAuthError);
});

Deno.test("startLoopbackReceiver() failure page after a failed exchange shows no secret", async () => {
  await using h = await start({
    finish: () =>
      Promise.reject(
        new OAuthError("invalid_grant", "the code was refused", {
          status: 400,
        }),
      ),
  });
  const answer = await get(h.callback(GOOD));
  assert.equal(answer.status, 400);
  assertHtmlPage(answer, "the exchange failure page");
  await assert.rejects(h.receiver.result, oauthErrorWith("invalid_grant"));
});

// close() -------------------------------------------------------------------------------------------

Deno.test("startLoopbackReceiver() close() frees the port and is idempotent", async () => {
  const port = freePort();
  const receiver = await startLoopbackReceiver({
    redirectUri: `http://localhost:${port}/callback`,
    parse: () => CODE,
    finish: () => Promise.resolve(0),
  });
  await Promise.all([receiver.close(), receiver.close()]);
  await receiver.close();
  await receiver[Symbol.asyncDispose]();
  assertPortFree(port, ["127.0.0.1", "::1"]);
  // And a new receiver can take the same port.
  await using again = await startLoopbackReceiver({
    redirectUri: `http://localhost:${port}/callback`,
    parse: () => CODE,
    finish: () => Promise.resolve(0),
  });
  assert.equal(again.redirectUri, `http://localhost:${port}/callback`);
});

Deno.test("startLoopbackReceiver() close() frees the port after a finished login", async () => {
  const h = await start({ redirectUri: `http://127.0.0.1:${freePort()}/cb` });
  const answer = await get(h.callback(GOOD));
  assert.equal(answer.status, 200);
  await h.receiver.close();
  assertPortFree(h.port, ["127.0.0.1"]);
});

// submit() --------------------------------------------------------------------------------------------

Deno.test("startLoopbackReceiver() submit() refuses a forged pasted URL and keeps waiting", async () => {
  await using h = await start();
  await assert.rejects(
    h.receiver.submit(h.callback("code=x&state=forged")),
    oauthErrorWith("state_mismatch"),
  );
  await assert.rejects(
    h.receiver.submit("not a url at all"),
    oauthErrorWith("invalid_callback"),
  );
  assert.equal(h.receiver.phase, "waiting");
  assert.deepEqual(
    await h.receiver.submit(`  ${h.callback(`&${GOOD}`)}\n`),
    { accessToken: TOKEN },
  );
  assert.deepEqual(h.finished, [CODE]);
  // The browser arriving later changes nothing.
  assert.equal((await get(h.callback(GOOD))).status, 409);
  assert.deepEqual(h.finished, [CODE]);
});

// A client that never finishes its request -------------------------------------------------------

/** Requests that are answered but leave the socket open, waiting for a body. */
const HALF_REQUESTS = {
  "a POST with a foreign Host and a huge body announced":
    "POST /x HTTP/1.1\r\nHost: evil\r\nContent-Length: 1000000000\r\n\r\n",
  "a GET with a body announced": (host: string) =>
    `GET /other HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1000000000\r\n\r\n`,
  "a GET with a foreign Host and a body announced":
    "GET /callback HTTP/1.1\r\nHost: evil\r\nContent-Length: 5\r\n\r\n",
} as const;

/** Opens a raw TCP connection, sends `request`, and reads the answer's start. */
async function hold(port: number, request: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(1024);
  const n = await conn.read(buffer);
  assert.ok(n !== null && n > 0, "the receiver answered");
  assert.match(
    new TextDecoder().decode(buffer.subarray(0, n)),
    /^HTTP\/1\.1 4/,
  );
  return conn;
}

/** Settles with `"done"`, or `"still open"` after `ms`. */
async function within(ms: number, work: Promise<unknown>): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work.then(() => "done"),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("still open"), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

for (const [name, request] of Object.entries(HALF_REQUESTS)) {
  Deno.test(`startLoopbackReceiver() close() ends within its grace while ${name} keeps its socket`, async () => {
    const h = await start();
    const text = typeof request === "string"
      ? request
      : request(`127.0.0.1:${h.port}`);
    const conn = await hold(h.port, text);
    try {
      await completes(h);
      const started = performance.now();
      assert.equal(await within(10_000, h.receiver.close()), "done");
      assert.ok(performance.now() - started < 5_000, "closed within the grace");
      assertPortFree(h.port, ["127.0.0.1"]);
    } finally {
      conn.close();
      await h.receiver.close();
    }
  });
}

Deno.test("startLoopbackReceiver() close({ graceMs: 0 }) cuts a close already waiting", async () => {
  // An answer that is not written yet: a callback whose exchange hangs.
  const slow = Promise.withResolvers<{ accessToken: string }>();
  await using h2 = await start({ finish: () => slow.promise });
  const pending = fetch(h2.callback(GOOD)).then((r) => r.text(), () => "");
  while (h2.receiver.phase !== "busy") {
    await new Promise((r) => setTimeout(r, 10));
  }
  const closing = h2.receiver.close({ graceMs: 60_000 });
  assert.equal(
    await within(300, closing),
    "still open",
    "waits for the answer",
  );
  assert.equal(await within(5_000, h2.receiver.close({ graceMs: 0 })), "done");
  slow.resolve({ accessToken: TOKEN });
  await pending;
  assertPortFree(h2.port, ["127.0.0.1"]);
});
