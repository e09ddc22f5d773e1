import assert from "node:assert/strict";
import {
  type AuthServer,
  lookerServer,
  oauthServer,
  revokeTokens,
  type TokenSet,
} from "../../src/core/mod.ts";
import { failsHiding } from "../_errors.ts";
import { closedPort } from "../_ports.ts";
import { type RecordingServer, serveRecording } from "../_recording_server.ts";

const CLIENT_ID = "looker-oauth-test-client";
const ACCESS = "AccessToken-b8e1d2c3a4f5e6d7c8b9a0f1e2d3c4b5";
const REFRESH = "RefreshToken-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d";
const TOKENS: TokenSet = {
  accessToken: ACCESS,
  tokenType: "bearer",
  expiresAt: Date.now() + 3600_000,
  refreshToken: REFRESH,
};

const fails = failsHiding([ACCESS, REFRESH]);

/** An RFC 7009 server on `s`, revoking at `/revoke`. */
function withRevocation(s: RecordingServer): AuthServer {
  return oauthServer({
    authorizationEndpoint: `${s.base}/authorize`,
    tokenEndpoint: `${s.base}/token`,
    revocationEndpoint: `${s.base}/revoke`,
  });
}

// Looker

Deno.test("revokeTokens() logs out of Looker with DELETE /api/4.0/logout and the bearer token", async () => {
  await using s = serveRecording(() => new Response(null, { status: 204 }));
  const server = lookerServer({
    lookerUrl: s.base,
    apiUrl: `${s.base}/api/4.0`,
  });
  assert.equal(
    await revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    true,
  );
  assert.equal(s.requests.length, 1);
  const [req] = s.requests;
  assert.equal(req!.method, "DELETE");
  assert.equal(req!.path, "/api/4.0/logout");
  assert.equal(req!.headers.get("authorization"), `Bearer ${ACCESS}`);
  assert.equal(req!.form.toString(), "", "no token in a body");
});

Deno.test("revokeTokens() on Looker uses the API host, not the UI host", async () => {
  await using ui = serveRecording(() => new Response(null, { status: 404 }));
  await using api = serveRecording(() => new Response(null, { status: 204 }));
  const server = lookerServer({ lookerUrl: ui.base, apiUrl: api.base });
  assert.equal(
    await revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    true,
  );
  assert.equal(ui.requests.length, 0);
  assert.equal(api.requests.length, 1);
});

Deno.test("revokeTokens() on Looker maps a 401 to invalid_grant", async () => {
  await using s = serveRecording(() =>
    Response.json({
      message: "Requires authentication.",
      documentation_url: "https://cloud.google.com/looker/docs/",
    }, { status: 401 })
  );
  const server = lookerServer({ lookerUrl: s.base });
  await assert.rejects(
    revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    fails("invalid_grant", 401),
  );
});

Deno.test("revokeTokens() on Looker maps a 5xx to server_error and hides an echoed token", async () => {
  await using s = serveRecording(() =>
    Response.json({ message: `cannot log out ${ACCESS}` }, { status: 500 })
  );
  const server = lookerServer({ lookerUrl: s.base });
  await assert.rejects(
    revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    fails("server_error", 500),
  );
});

Deno.test("revokeTokens() on Looker reports an unreachable API host as network_error", async () => {
  const server = lookerServer({
    lookerUrl: `http://127.0.0.1:${closedPort()}`,
  });
  await assert.rejects(
    revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    fails("network_error"),
  );
});

Deno.test("revokeTokens() refuses an empty client id", async () => {
  const server = lookerServer({ lookerUrl: "https://example.looker.com" });
  await assert.rejects(
    revokeTokens(server, { clientId: "", tokens: TOKENS }),
    fails("invalid_argument"),
  );
});

// RFC 7009

Deno.test("revokeTokens() revokes the refresh token, then the access token (RFC 7009)", async () => {
  await using s = serveRecording(() => new Response(null, { status: 200 }));
  const server = withRevocation(s);
  assert.equal(
    await revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    true,
  );
  assert.equal(s.requests.length, 2);
  for (const req of s.requests) {
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/revoke");
    assert.equal(req.headers.get("authorization"), null);
    assert.match(
      req.headers.get("content-type") ?? "",
      /^application\/x-www-form-urlencoded/,
    );
  }
  assert.deepEqual(Object.fromEntries(s.requests[0]!.form), {
    token: REFRESH,
    token_type_hint: "refresh_token",
    client_id: CLIENT_ID,
  });
  assert.deepEqual(Object.fromEntries(s.requests[1]!.form), {
    token: ACCESS,
    token_type_hint: "access_token",
    client_id: CLIENT_ID,
  });
});

Deno.test("revokeTokens() revokes only the access token when there is no refresh token", async () => {
  await using s = serveRecording(() => new Response(null, { status: 200 }));
  const server = withRevocation(s);
  const { refreshToken: _, ...accessOnly } = TOKENS;
  assert.equal(
    await revokeTokens(server, { clientId: CLIENT_ID, tokens: accessOnly }),
    true,
  );
  assert.equal(s.requests.length, 1);
  assert.equal(s.requests[0]!.form.get("token"), ACCESS);
  assert.equal(s.requests[0]!.form.get("token_type_hint"), "access_token");
});

Deno.test("revokeTokens() returns false, sending nothing, without a revocation endpoint", async () => {
  await using s = serveRecording(() => new Response(null, { status: 200 }));
  const server = oauthServer({
    authorizationEndpoint: `${s.base}/authorize`,
    tokenEndpoint: `${s.base}/token`,
  });
  assert.equal(
    await revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    false,
  );
  assert.equal(s.requests.length, 0);
});

Deno.test("revokeTokens() maps a revocation endpoint's OAuth error without showing a token", async () => {
  await using s = serveRecording(() =>
    Response.json({
      error: "unsupported_token_type",
      error_description: `cannot revoke ${REFRESH}`,
    }, { status: 400 })
  );
  const server = withRevocation(s);
  await assert.rejects(
    revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    fails("token_endpoint_error", 400),
  );
  assert.equal(s.requests.length, 1, "stops at the first failure");
});

Deno.test("revokeTokens() maps a revocation endpoint's 503 to server_error", async () => {
  await using s = serveRecording(() => new Response("busy", { status: 503 }));
  const server = withRevocation(s);
  await assert.rejects(
    revokeTokens(server, { clientId: CLIENT_ID, tokens: TOKENS }),
    fails("server_error", 503),
  );
});

Deno.test("revokeTokens() reports a revocation endpoint's bare 401 as invalid_client (RFC 7009 client authentication)", async () => {
  await using s = serveRecording(() => new Response(null, { status: 401 }));
  await assert.rejects(
    revokeTokens(withRevocation(s), { clientId: CLIENT_ID, tokens: TOKENS }),
    fails("invalid_client", 401),
  );
  assert.equal(s.requests.length, 1);
});

Deno.test("revokeTokens() is done once the refresh token is revoked, even if access tokens cannot be", async () => {
  await using s = serveRecording(({ form }) =>
    form.get("token_type_hint") === "refresh_token"
      ? new Response(null, { status: 200 })
      : Response.json({ error: "unsupported_token_type" }, { status: 400 })
  );
  assert.equal(
    await revokeTokens(withRevocation(s), {
      clientId: CLIENT_ID,
      tokens: TOKENS,
    }),
    true,
  );
  assert.equal(s.requests.length, 2);
  // Without a refresh token, the access token's refusal is the answer.
  const { refreshToken: _, ...accessOnly } = TOKENS;
  await assert.rejects(
    revokeTokens(withRevocation(s), {
      clientId: CLIENT_ID,
      tokens: accessOnly,
    }),
    fails("token_endpoint_error", 400),
  );
});
