import assert from "node:assert/strict";
import {
  type AuthServer,
  calculateCodeChallenge,
  LOOKER_DEFAULT_SCOPE,
  lookerServer,
  oauthServer,
  startAuthorization,
} from "../../src/core/mod.ts";
import { oauthErrorWith } from "../_errors.ts";

const looker = lookerServer({
  lookerUrl: "https://example.looker.com",
  apiUrl: "https://example.looker.com:19999",
});
const generic = oauthServer({
  authorizationEndpoint: "https://id.example.com/oauth/authorize",
  tokenEndpoint: "https://id.example.com/oauth/token",
});
const REDIRECT = "http://localhost:8080/callback";
const PARAMS = [
  "client_id",
  "code_challenge",
  "code_challenge_method",
  "redirect_uri",
  "response_type",
  "scope",
  "state",
];

function names(url: URL): string[] {
  return [...url.searchParams.keys()].sort();
}

Deno.test("startAuthorization() builds a Looker URL with exactly the expected parameters", async () => {
  const pending = await startAuthorization(looker, {
    clientId: "my-app",
    redirectUri: REDIRECT,
  });
  const { url } = pending;
  assert.equal(
    `${url.origin}${url.pathname}`,
    "https://example.looker.com/auth",
  );
  assert.deepEqual(names(url), PARAMS);
  const q = url.searchParams;
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("client_id"), "my-app");
  assert.equal(q.get("redirect_uri"), REDIRECT);
  assert.equal(q.get("scope"), "cors_api");
  assert.equal(LOOKER_DEFAULT_SCOPE, "cors_api");
  assert.equal(q.get("state"), pending.state);
  assert.equal(q.get("code_challenge_method"), "S256");
  assert.equal(
    q.get("code_challenge"),
    await calculateCodeChallenge(pending.codeVerifier),
  );
  assert.equal(pending.redirectUri, REDIRECT);
  assert.equal(url.hash, "");
});

Deno.test("startAuthorization() returns a 43-character verifier and a 128-bit+ state", async () => {
  const { state, codeVerifier } = await startAuthorization(looker, {
    clientId: "my-app",
    redirectUri: REDIRECT,
  });
  assert.match(codeVerifier, /^[A-Za-z0-9\-._~]{43}$/);
  assert.match(state, /^[A-Za-z0-9_-]+$/);
  assert.ok(state.length * 6 >= 128);
});

Deno.test("startAuthorization() sends no scope to other servers unless asked", async () => {
  const { url } = await startAuthorization(generic, {
    clientId: "cli",
    redirectUri: REDIRECT,
  });
  assert.equal(
    `${url.origin}${url.pathname}`,
    "https://id.example.com/oauth/authorize",
  );
  assert.deepEqual(names(url), PARAMS.filter((p) => p !== "scope"));
  const scoped = await startAuthorization(generic, {
    clientId: "cli",
    redirectUri: REDIRECT,
    scope: "openid offline_access",
  });
  assert.equal(scoped.url.searchParams.get("scope"), "openid offline_access");
});

Deno.test("startAuthorization() uses the given scope for Looker", async () => {
  const { url } = await startAuthorization(looker, {
    clientId: "my-app",
    redirectUri: REDIRECT,
    scope: "cors_api other",
  });
  assert.equal(url.searchParams.get("scope"), "cors_api other");
  assert.equal(url.searchParams.getAll("scope").length, 1);
});

Deno.test("startAuthorization() never puts the verifier in the URL", async () => {
  const { url, codeVerifier } = await startAuthorization(looker, {
    clientId: "my-app",
    redirectUri: REDIRECT,
  });
  assert.ok(!url.href.includes(codeVerifier));
  assert.ok(!decodeURIComponent(url.href).includes(codeVerifier));
  assert.equal(url.searchParams.get("code_verifier"), null);
});

Deno.test("startAuthorization() keeps parameters already in the authorization endpoint", async () => {
  const server = oauthServer({
    authorizationEndpoint: "https://id.example.com/authorize?tenant=acme",
    tokenEndpoint: "https://id.example.com/token",
  });
  const { url } = await startAuthorization(server, {
    clientId: "cli",
    redirectUri: REDIRECT,
  });
  assert.equal(url.searchParams.get("tenant"), "acme");
});

Deno.test("startAuthorization() adds extra parameters", async () => {
  const { url } = await startAuthorization(generic, {
    clientId: "cli",
    redirectUri: REDIRECT,
    extraParams: { prompt: "consent", login_hint: "a@example.com" },
  });
  assert.equal(url.searchParams.get("prompt"), "consent");
  assert.equal(url.searchParams.get("login_hint"), "a@example.com");
  assert.deepEqual(
    names(url),
    [...PARAMS.filter((p) => p !== "scope"), "login_hint", "prompt"].sort(),
  );
});

Deno.test("startAuthorization() refuses extra parameters that override reserved ones", async () => {
  for (const name of PARAMS) {
    await assert.rejects(
      startAuthorization(looker, {
        clientId: "my-app",
        redirectUri: REDIRECT,
        extraParams: { [name]: "attacker" },
      }),
      oauthErrorWith("invalid_argument"),
      name,
    );
  }
});

Deno.test("startAuthorization() refuses a non-string extra parameter", async () => {
  await assert.rejects(
    startAuthorization(looker, {
      clientId: "my-app",
      redirectUri: REDIRECT,
      extraParams: { prompt: 1 as unknown as string },
    }),
    oauthErrorWith("invalid_argument"),
  );
});

Deno.test("startAuthorization() makes a fresh state and verifier on every call", async () => {
  const states = new Set<string>();
  const verifiers = new Set<string>();
  const challenges = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const p = await startAuthorization(looker, {
      clientId: "my-app",
      redirectUri: REDIRECT,
    });
    states.add(p.state);
    verifiers.add(p.codeVerifier);
    challenges.add(p.url.searchParams.get("code_challenge")!);
  }
  assert.equal(states.size, 20);
  assert.equal(verifiers.size, 20);
  assert.equal(challenges.size, 20);
});

Deno.test("startAuthorization() sends a fresh nonce whenever openid is requested, and none otherwise", async () => {
  const nonces = new Set<string>();
  for (const scope of ["openid", "openid offline_access", "email openid"]) {
    for (const server of [generic, looker]) {
      const pending = await startAuthorization(server, {
        clientId: "cli",
        redirectUri: REDIRECT,
        scope,
      });
      assert.ok(pending.nonce, `no nonce for ${scope}`);
      assert.ok(pending.nonce.length >= 43, "at least 256 bits");
      assert.equal(pending.url.searchParams.get("nonce"), pending.nonce);
      nonces.add(pending.nonce);
    }
  }
  assert.equal(nonces.size, 6);
  for (const scope of [undefined, "offline_access", "openidx", "cors_api"]) {
    const pending = await startAuthorization(generic, {
      clientId: "cli",
      redirectUri: REDIRECT,
      ...(scope === undefined ? {} : { scope }),
    });
    assert.equal(pending.nonce, undefined, String(scope));
    assert.equal(pending.url.searchParams.has("nonce"), false);
  }
  await assert.rejects(
    startAuthorization(generic, {
      clientId: "cli",
      redirectUri: REDIRECT,
      scope: "openid",
      extraParams: { nonce: "chosen-by-an-attacker" },
    }),
    oauthErrorWith("invalid_argument"),
  );
});

Deno.test("startAuthorization() refuses a server that does not offer S256", async () => {
  const plainOnly: AuthServer = {
    ...generic,
    metadata: {
      ...generic.metadata,
      code_challenge_methods_supported: ["plain"],
    },
  };
  await assert.rejects(
    startAuthorization(plainOnly, { clientId: "cli", redirectUri: REDIRECT }),
    oauthErrorWith("unsupported"),
  );
  const none: AuthServer = {
    ...generic,
    metadata: { ...generic.metadata, code_challenge_methods_supported: [] },
  };
  await assert.rejects(
    startAuthorization(none, { clientId: "cli", redirectUri: REDIRECT }),
    oauthErrorWith("unsupported"),
  );
});

Deno.test("startAuthorization() still uses S256 when the server lists no methods", async () => {
  const { url } = await startAuthorization(generic, {
    clientId: "cli",
    redirectUri: REDIRECT,
  });
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
});

Deno.test("startAuthorization() ignores a malformed code_challenge_methods_supported and still uses S256", async () => {
  for (const value of [true, "S256", { S256: true }, 256]) {
    const odd: AuthServer = {
      ...generic,
      metadata: {
        ...generic.metadata,
        code_challenge_methods_supported: value as unknown as string[],
      },
    };
    const { url } = await startAuthorization(odd, {
      clientId: "cli",
      redirectUri: REDIRECT,
    });
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  }
});

Deno.test("startAuthorization() refuses an http redirect URI on a non-loopback host", async () => {
  for (
    const redirectUri of [
      "http://app.example.com/callback",
      "http://192.168.1.10:8080/callback",
    ]
  ) {
    await assert.rejects(
      startAuthorization(looker, { clientId: "my-app", redirectUri }),
      oauthErrorWith("insecure_http"),
      redirectUri,
    );
  }
});

Deno.test("startAuthorization() accepts loopback, https and private-use redirect URIs", async () => {
  for (
    const redirectUri of [
      "http://127.0.0.1:8080/callback",
      "http://[::1]:8080/callback",
      "http://localhost/callback",
      "https://app.example.com/callback",
      "com.example.app:/oauth2redirect",
    ]
  ) {
    const { url } = await startAuthorization(looker, {
      clientId: "my-app",
      redirectUri,
    });
    assert.equal(url.searchParams.get("redirect_uri"), redirectUri);
  }
});

Deno.test("startAuthorization() refuses a redirect URI with a fragment", async () => {
  await assert.rejects(
    startAuthorization(looker, {
      clientId: "my-app",
      redirectUri: "http://localhost:8080/callback#x",
    }),
    oauthErrorWith("invalid_argument"),
  );
});

Deno.test("startAuthorization() refuses javascript:, data:, file: and relative redirect URIs", async () => {
  for (
    const redirectUri of [
      "javascript:alert(1)",
      "JavaScript:alert(1)",
      "data:text/html,hi",
      "file:///tmp/cb",
      "/callback",
      "",
    ]
  ) {
    await assert.rejects(
      startAuthorization(looker, { clientId: "my-app", redirectUri }),
      oauthErrorWith("invalid_argument"),
      redirectUri,
    );
  }
});

Deno.test("startAuthorization() refuses credentials in the redirect URI", async () => {
  await assert.rejects(
    startAuthorization(looker, {
      clientId: "my-app",
      redirectUri: "http://user:pw@localhost:8080/callback",
    }),
    oauthErrorWith("invalid_argument"),
  );
});

Deno.test("startAuthorization() refuses an empty client id", async () => {
  for (const clientId of ["", "   ", undefined as unknown as string]) {
    await assert.rejects(
      startAuthorization(looker, { clientId, redirectUri: REDIRECT }),
      oauthErrorWith("invalid_argument"),
    );
  }
});
