import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import {
  discover,
  lookerServer,
  OAuthError,
  oauthServer,
} from "../../src/core/mod.ts";
import { oauthErrorWith } from "../_errors.ts";
import { closedPort } from "../_ports.ts";

/** A loopback server that answers `routes[path]` and 404 elsewhere. */
function metadataServer(
  routes: (base: string) => Record<string, unknown>,
): { base: string; paths: string[] } & AsyncDisposable {
  const paths: string[] = [];
  let base = "";
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      paths.push(path);
      const body = routes(base)[path];
      return body === undefined
        ? Response.json({ message: "Not found" }, { status: 404 })
        : Response.json(body);
    },
  );
  base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    paths,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function metadata(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    code_challenge_methods_supported: ["S256"],
    ...extra,
  };
}

// lookerServer()

Deno.test("lookerServer() puts /auth on the UI host and /api/token on the API host", () => {
  const server = lookerServer({
    lookerUrl: "https://example.looker.com",
    apiUrl: "https://example.looker.com:19999",
  });
  assert.equal(
    server.metadata.authorization_endpoint,
    "https://example.looker.com/auth",
  );
  assert.equal(
    server.metadata.token_endpoint,
    "https://example.looker.com:19999/api/token",
  );
  assert.equal(server.metadata.issuer, "https://example.looker.com");
  assert.deepEqual(server.metadata.code_challenge_methods_supported, ["S256"]);
  assert.deepEqual(server.looker, {
    lookerUrl: "https://example.looker.com",
    apiUrl: "https://example.looker.com:19999",
  });
  assert.equal(server.allowInsecureHttp, false);
});

Deno.test("lookerServer() defaults the API URL to the Looker URL", () => {
  const server = lookerServer({ lookerUrl: "https://example.looker.com" });
  assert.equal(
    server.metadata.token_endpoint,
    "https://example.looker.com/api/token",
  );
  assert.equal(server.looker?.apiUrl, "https://example.looker.com");
});

Deno.test("lookerServer() strips a trailing slash and /api/4.0", () => {
  for (
    const apiUrl of [
      "https://example.looker.com:19999/",
      "https://example.looker.com:19999/api/4.0",
      "https://example.looker.com:19999/api/4.0/",
      "https://example.looker.com:19999/api/3.1",
      "https://example.looker.com:19999/api",
    ]
  ) {
    const server = lookerServer({
      lookerUrl: "https://example.looker.com/",
      apiUrl,
    });
    assert.equal(
      server.metadata.token_endpoint,
      "https://example.looker.com:19999/api/token",
      apiUrl,
    );
    assert.equal(server.looker?.apiUrl, "https://example.looker.com:19999");
    assert.equal(
      server.metadata.authorization_endpoint,
      "https://example.looker.com/auth",
    );
  }
});

Deno.test("lookerServer() accepts URL objects", () => {
  const server = lookerServer({
    lookerUrl: new URL("https://example.looker.com"),
    apiUrl: new URL("https://example.looker.com:19999/api/4.0"),
  });
  assert.equal(
    server.metadata.token_endpoint,
    "https://example.looker.com:19999/api/token",
  );
});

Deno.test("lookerServer() allows http:// on loopback hosts", () => {
  for (
    const host of [
      "127.0.0.1:9999",
      "[::1]:9999",
      "localhost:9999",
      "127.1.2.3",
    ]
  ) {
    const server = lookerServer({ lookerUrl: `http://${host}` });
    assert.equal(server.metadata.authorization_endpoint, `http://${host}/auth`);
    assert.equal(server.metadata.token_endpoint, `http://${host}/api/token`);
  }
});

Deno.test("lookerServer() refuses http:// on a non-loopback host", () => {
  for (
    const url of [
      "http://example.looker.com",
      "http://10.0.0.1",
      "http://localhost.example.com",
      "http://127.0.0.1.nip.io",
      "http://0.0.0.0",
    ]
  ) {
    assert.throws(
      () => lookerServer({ lookerUrl: url }),
      oauthErrorWith("insecure_http"),
    );
  }
  assert.throws(
    () =>
      lookerServer({
        lookerUrl: "https://example.looker.com",
        apiUrl: "http://example.looker.com:19999",
      }),
    oauthErrorWith("insecure_http"),
  );
  assert.throws(
    () =>
      lookerServer({
        lookerUrl: "http://example.looker.com",
        apiUrl: "https://example.looker.com:19999",
      }),
    oauthErrorWith("insecure_http"),
  );
});

Deno.test("lookerServer() allows http:// off loopback only with allowInsecureHttp", () => {
  const server = lookerServer({
    lookerUrl: "http://looker.internal",
    allowInsecureHttp: true,
  });
  assert.equal(server.allowInsecureHttp, true);
  assert.equal(
    server.metadata.token_endpoint,
    "http://looker.internal/api/token",
  );
});

Deno.test("lookerServer() refuses file: and javascript: URLs", () => {
  for (
    const url of [
      "file:///etc/passwd",
      "javascript:alert(1)",
      "ftp://x.example",
    ]
  ) {
    assert.throws(
      () => lookerServer({ lookerUrl: url }),
      oauthErrorWith("invalid_argument"),
    );
    assert.throws(
      () =>
        lookerServer({ lookerUrl: "https://example.looker.com", apiUrl: url }),
      oauthErrorWith("invalid_argument"),
    );
    // Opting in to insecure HTTP does not open other schemes.
    assert.throws(
      () => lookerServer({ lookerUrl: url, allowInsecureHttp: true }),
      oauthErrorWith("invalid_argument"),
    );
  }
});

Deno.test("lookerServer() refuses relative and malformed URLs", () => {
  for (const url of ["example.looker.com", "/auth", "", "https://"]) {
    assert.throws(
      () => lookerServer({ lookerUrl: url }),
      oauthErrorWith("invalid_argument"),
    );
  }
});

Deno.test("lookerServer() refuses credentials in the URL", () => {
  assert.throws(
    () => lookerServer({ lookerUrl: "https://user:pass@example.looker.com" }),
    oauthErrorWith("invalid_argument"),
  );
  assert.throws(
    () =>
      lookerServer({
        lookerUrl: "https://example.looker.com",
        apiUrl: "https://user@example.looker.com:19999",
      }),
    oauthErrorWith("invalid_argument"),
  );
});

Deno.test("lookerServer() errors never quote a password from the URL", () => {
  try {
    lookerServer({
      lookerUrl: "https://user:hunter2secret@example.looker.com",
    });
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof OAuthError);
    assert.ok(!err.message.includes("hunter2secret"));
    assert.ok(!(err.hint ?? "").includes("hunter2secret"));
  }
});

// oauthServer()

Deno.test("oauthServer() describes explicit endpoints", () => {
  const server = oauthServer({
    authorizationEndpoint: "https://id.example.com/oauth/authorize",
    tokenEndpoint: "https://id.example.com/oauth/token",
    revocationEndpoint: "https://id.example.com/oauth/revoke",
    issParameterSupported: true,
  });
  assert.equal(server.metadata.issuer, "https://id.example.com");
  assert.equal(
    server.metadata.authorization_endpoint,
    "https://id.example.com/oauth/authorize",
  );
  assert.equal(
    server.metadata.token_endpoint,
    "https://id.example.com/oauth/token",
  );
  assert.equal(
    server.metadata.revocation_endpoint,
    "https://id.example.com/oauth/revoke",
  );
  assert.equal(
    server.metadata.authorization_response_iss_parameter_supported,
    true,
  );
  assert.equal(server.looker, undefined);
  assert.equal(server.allowInsecureHttp, false);
});

Deno.test("oauthServer() keeps an explicit issuer and omits what was not given", () => {
  const server = oauthServer({
    issuer: "https://id.example.com/tenant",
    authorizationEndpoint: "https://id.example.com/authorize",
    tokenEndpoint: "https://id.example.com/token",
  });
  assert.equal(server.metadata.issuer, "https://id.example.com/tenant");
  assert.equal(server.metadata.revocation_endpoint, undefined);
  assert.equal(
    server.metadata.authorization_response_iss_parameter_supported,
    undefined,
  );
});

Deno.test("oauthServer() applies the transport policy to every endpoint", () => {
  const ok = {
    authorizationEndpoint: "https://id.example.com/authorize",
    tokenEndpoint: "https://id.example.com/token",
  };
  assert.throws(
    () =>
      oauthServer({ ...ok, authorizationEndpoint: "http://id.example.com/a" }),
    oauthErrorWith("insecure_http"),
  );
  assert.throws(
    () => oauthServer({ ...ok, tokenEndpoint: "http://id.example.com/t" }),
    oauthErrorWith("insecure_http"),
  );
  assert.throws(
    () => oauthServer({ ...ok, revocationEndpoint: "http://id.example.com/r" }),
    oauthErrorWith("insecure_http"),
  );
  assert.throws(
    () => oauthServer({ ...ok, authorizationEndpoint: "javascript:alert(1)" }),
    oauthErrorWith("invalid_argument"),
  );
  assert.throws(
    () => oauthServer({ ...ok, tokenEndpoint: "file:///tmp/token" }),
    oauthErrorWith("invalid_argument"),
  );
  assert.throws(
    () => oauthServer({ ...ok, tokenEndpoint: "https://a:b@id.example.com/t" }),
    oauthErrorWith("invalid_argument"),
  );
  const loopback = oauthServer({
    authorizationEndpoint: "http://127.0.0.1:4000/authorize",
    tokenEndpoint: "http://[::1]:4000/token",
  });
  assert.equal(loopback.metadata.token_endpoint, "http://[::1]:4000/token");
  const optIn = oauthServer({
    authorizationEndpoint: "http://id.internal/authorize",
    tokenEndpoint: "http://id.internal/token",
    allowInsecureHttp: true,
  });
  assert.equal(optIn.allowInsecureHttp, true);
});

// discover()

Deno.test("discover() reads /.well-known/openid-configuration", async () => {
  await using server = metadataServer((base) => ({
    "/.well-known/openid-configuration": metadata(base, {
      revocation_endpoint: `${base}/revoke`,
      authorization_response_iss_parameter_supported: true,
    }),
  }));
  const found = await discover(server.base);
  assert.equal(found.metadata.issuer, server.base);
  assert.equal(
    found.metadata.authorization_endpoint,
    `${server.base}/authorize`,
  );
  assert.equal(found.metadata.token_endpoint, `${server.base}/token`);
  assert.equal(found.metadata.revocation_endpoint, `${server.base}/revoke`);
  assert.equal(
    found.metadata.authorization_response_iss_parameter_supported,
    true,
  );
  assert.equal(found.looker, undefined);
  assert.deepEqual(server.paths, ["/.well-known/openid-configuration"]);
});

Deno.test("discover() falls back to the RFC 8414 document on a 404", async () => {
  await using server = metadataServer((base) => ({
    "/.well-known/oauth-authorization-server": metadata(base),
  }));
  const found = await discover(server.base);
  assert.equal(found.metadata.token_endpoint, `${server.base}/token`);
  assert.deepEqual(server.paths, [
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
  ]);
});

Deno.test("discover() with algorithm oauth2 reads only the RFC 8414 document", async () => {
  await using server = metadataServer((base) => ({
    "/.well-known/oauth-authorization-server": metadata(base),
  }));
  const found = await discover(server.base, { algorithm: "oauth2" });
  assert.equal(found.metadata.issuer, server.base);
  assert.deepEqual(server.paths, ["/.well-known/oauth-authorization-server"]);
});

Deno.test("discover() fails when neither document exists", async () => {
  await using server = metadataServer(() => ({}));
  await assert.rejects(
    discover(server.base),
    oauthErrorWith("discovery_failed"),
  );
});

Deno.test("discover() refuses metadata naming another issuer", async () => {
  await using server = metadataServer(() => ({
    "/.well-known/openid-configuration": metadata("https://evil.example.com"),
  }));
  await assert.rejects(
    discover(server.base),
    oauthErrorWith("discovery_failed"),
  );
});

Deno.test("discover() reports the issuer mismatch, not the fallback's 404", async () => {
  await using server = metadataServer(() => ({
    "/.well-known/openid-configuration": metadata("https://evil.example.com"),
  }));
  await assert.rejects(discover(server.base), (err) => {
    oauthErrorWith("discovery_failed")(err);
    const cause = (err as OAuthError).cause;
    assert.ok(
      cause instanceof oauth.OperationProcessingError &&
        cause.code === oauth.JSON_ATTRIBUTE_COMPARISON,
      `the cause is ${Deno.inspect(cause)}`,
    );
    return true;
  });
});

Deno.test("discover() refuses RFC 8414 metadata naming another issuer", async () => {
  await using server = metadataServer(() => ({
    "/.well-known/oauth-authorization-server": metadata(
      "https://evil.example.com",
    ),
  }));
  await assert.rejects(
    discover(server.base),
    oauthErrorWith("discovery_failed"),
  );
});

Deno.test("discover() refuses metadata without a token endpoint", async () => {
  await using server = metadataServer((base) => ({
    "/.well-known/openid-configuration": {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
    },
  }));
  await assert.rejects(
    discover(server.base),
    oauthErrorWith("discovery_failed"),
  );
});

Deno.test("discover() refuses an endpoint with http:// on a non-loopback host", async () => {
  await using server = metadataServer((base) => ({
    "/.well-known/openid-configuration": metadata(base, {
      token_endpoint: "http://id.example.com/token",
    }),
  }));
  await assert.rejects(discover(server.base), oauthErrorWith("insecure_http"));
});

Deno.test("discover() refuses a javascript: authorization endpoint", async () => {
  await using server = metadataServer((base) => ({
    "/.well-known/openid-configuration": metadata(base, {
      authorization_endpoint: "javascript:alert(document.cookie)",
    }),
  }));
  await assert.rejects(discover(server.base), (err) => {
    assert.ok(err instanceof OAuthError);
    assert.ok(
      ["invalid_argument", "discovery_failed"].includes(err.code),
      err.code,
    );
    return true;
  });
});

Deno.test("discover() refuses an http:// issuer on a non-loopback host before any request", async () => {
  await assert.rejects(
    discover("http://id.example.com"),
    oauthErrorWith("insecure_http"),
  );
});

Deno.test("discover() reports an unreachable issuer as network_error", async () => {
  await assert.rejects(
    discover(`http://127.0.0.1:${closedPort()}`),
    oauthErrorWith("network_error"),
  );
});
