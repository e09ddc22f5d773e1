import assert from "node:assert/strict";
import {
  type AuthServer,
  exchangeCode,
  lookerServer,
  OAuthError,
  oauthServer,
  refreshTokens,
  type TokenSet,
} from "../../src/core/mod.ts";
import { DEFAULT_EXPIRES_IN } from "../../src/core/token.ts";
import { failsHiding } from "../_errors.ts";
import { closedPort } from "../_ports.ts";
import {
  type RecordingServer,
  type Seen,
  serveRecording,
} from "../_recording_server.ts";

// --- fixtures -------------------------------------------------------------

const CLIENT_ID = "looker-oauth-test-client";
const REDIRECT = "http://localhost:8080/callback";
const CODE = "AuthCode-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c1e";
const VERIFIER = "Verifier-dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFW";
const ACCESS = "AccessToken-b8e1d2c3a4f5e6d7c8b9a0f1e2d3c4b5";
const REFRESH = "RefreshToken-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d";
const NEW_ACCESS = "AccessToken-NEW-9f8e7d6c5b4a3f2e1d0c9b8a7f6e";
const NEW_REFRESH = "RefreshToken-NEW-0a9b8c7d6e5f4a3b2c1d0e9f8a7b";
const SECRETS = [CODE, VERIFIER, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH];
const NOW = 1_700_000_000_000;

interface TestServer extends RecordingServer {
  looker: AuthServer;
  generic: AuthServer;
}

/** A recording server, and a Looker and a generic server using it. */
function serve(
  handler: (seen: Seen) => Response | Promise<Response>,
): TestServer {
  const server = serveRecording(handler);
  const { base } = server;
  return Object.assign(server, {
    looker: lookerServer({ lookerUrl: base, apiUrl: base }),
    generic: oauthServer({
      authorizationEndpoint: `${base}/authorize`,
      tokenEndpoint: `${base}/token`,
    }),
  });
}

function tokens(extra: Record<string, unknown> = {}): Response {
  return Response.json({
    access_token: NEW_ACCESS,
    token_type: "Bearer",
    expires_in: 3600,
    refresh_token: NEW_REFRESH,
    ...extra,
  });
}

function json(status: number, body: unknown): Response {
  return Response.json(body, { status });
}

function exchange(server: AuthServer, extra: Record<string, unknown> = {}) {
  return exchangeCode(server, {
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    code: CODE,
    codeVerifier: VERIFIER,
    now: () => NOW,
    ...extra,
  });
}

const OLD: TokenSet = {
  accessToken: ACCESS,
  tokenType: "bearer",
  expiresAt: NOW - 1000,
  refreshToken: REFRESH,
  scope: "cors_api",
};

function refresh(server: AuthServer, extra: Record<string, unknown> = {}) {
  return refreshTokens(server, {
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    tokens: OLD,
    now: () => NOW,
    ...extra,
  });
}

/**
 * Asserts an `OAuthError` with `code` (and `status`) that shows no secret in
 * its message, hint, description or anywhere a logger would print.
 */
const fails = failsHiding(SECRETS);

// --- exchangeCode: the request ---------------------------------------------

Deno.test("exchangeCode() posts a public-client form to Looker's /api/token", async () => {
  await using s = serve(() => tokens());
  await exchange(s.looker);
  assert.equal(s.requests.length, 1);
  const [req] = s.requests;
  assert.equal(req!.method, "POST");
  assert.equal(req!.path, "/api/token");
  assert.match(
    req!.headers.get("content-type") ?? "",
    /^application\/x-www-form-urlencoded/,
  );
  assert.equal(req!.headers.get("authorization"), null);
  assert.deepEqual(Object.fromEntries(req!.form), {
    client_id: CLIENT_ID,
    grant_type: "authorization_code",
    code: CODE,
    code_verifier: VERIFIER,
    redirect_uri: REDIRECT,
  });
});

Deno.test("exchangeCode() posts to a generic server's token endpoint", async () => {
  await using s = serve(() => tokens());
  await exchange(s.generic);
  assert.equal(s.requests[0]!.path, "/token");
  assert.equal(s.requests[0]!.headers.get("authorization"), null);
  assert.equal(s.requests[0]!.form.get("client_id"), CLIENT_ID);
});

// --- exchangeCode: the answer ----------------------------------------------

Deno.test("exchangeCode() returns a TokenSet with expiresAt = receipt time + expires_in", async () => {
  await using s = serve(() => tokens({ scope: "cors_api" }));
  const set = await exchange(s.looker);
  assert.deepEqual(set, {
    accessToken: NEW_ACCESS,
    tokenType: "bearer",
    expiresAt: NOW + 3600 * 1000,
    refreshToken: NEW_REFRESH,
    scope: "cors_api",
  });
});

Deno.test("exchangeCode() reads the clock after the response arrives", async () => {
  let clock = NOW;
  await using s = serve(() => {
    clock += 5000; // the server takes 5 s, by the injected clock
    return tokens({ expires_in: 60 });
  });
  const set = await exchange(s.looker, { now: () => clock });
  assert.equal(set.expiresAt, NOW + 5000 + 60_000);
});

Deno.test("exchangeCode() accepts token_type BEARER in any case", async () => {
  for (const tokenType of ["BEARER", "bearer", "Bearer"]) {
    await using s = serve(() => tokens({ token_type: tokenType }));
    const set = await exchange(s.looker);
    assert.equal(set.tokenType, "bearer");
  }
});

Deno.test("exchangeCode() refuses a token_type other than bearer", async () => {
  for (const tokenType of ["mac", "DPoP", "N_A"]) {
    await using s = serve(() => tokens({ token_type: tokenType }));
    await assert.rejects(exchange(s.looker), fails("invalid_response"));
  }
});

Deno.test("exchangeCode() assumes DEFAULT_EXPIRES_IN when expires_in is missing", async () => {
  await using s = serve(() => tokens({ expires_in: undefined }));
  const set = await exchange(s.looker);
  assert.equal(DEFAULT_EXPIRES_IN, 3600);
  assert.equal(set.expiresAt, NOW + DEFAULT_EXPIRES_IN * 1000);
});

Deno.test("exchangeCode() accepts expires_in as a numeric string", async () => {
  await using s = serve(() => tokens({ expires_in: "3600" }));
  const set = await exchange(s.looker);
  assert.equal(set.expiresAt, NOW + 3600 * 1000);
});

Deno.test("exchangeCode() refuses a negative or non-numeric expires_in", async () => {
  for (const expiresIn of [-1, "-60", "soon", null, true]) {
    await using s = serve(() => tokens({ expires_in: expiresIn }));
    await assert.rejects(
      exchange(s.looker),
      fails("invalid_response"),
      String(expiresIn),
    );
  }
});

Deno.test("exchangeCode() omits a refresh token the server did not issue", async () => {
  await using s = serve(() => tokens({ refresh_token: undefined }));
  const set = await exchange(s.looker);
  assert.equal(set.refreshToken, undefined);
  assert.ok(!("refreshToken" in set));
});

Deno.test("exchangeCode() refuses an answer without access_token or token_type", async () => {
  for (const missing of ["access_token", "token_type"]) {
    await using s = serve(() => tokens({ [missing]: undefined }));
    await assert.rejects(
      exchange(s.looker),
      fails("invalid_response"),
      missing,
    );
  }
  await using s = serve(() => tokens({ access_token: 42 }));
  await assert.rejects(exchange(s.looker), fails("invalid_response"));
});

Deno.test("exchangeCode() refuses an HTML page", async () => {
  await using s = serve(() =>
    new Response(`<html><body>Sign in ${NEW_ACCESS}</body></html>`, {
      headers: { "content-type": "text/html; charset=utf-8" },
    })
  );
  await assert.rejects(exchange(s.looker), fails("invalid_response"));
});

Deno.test("exchangeCode() refuses a form-encoded answer (wrong content type)", async () => {
  await using s = serve(() =>
    new Response(
      `access_token=${NEW_ACCESS}&token_type=bearer&expires_in=3600`,
      { headers: { "content-type": "application/x-www-form-urlencoded" } },
    )
  );
  await assert.rejects(exchange(s.looker), fails("invalid_response"));
});

Deno.test("exchangeCode() refuses malformed JSON", async () => {
  await using s = serve(() =>
    new Response(`{"access_token":"${NEW_ACCESS}","token_type":`, {
      headers: { "content-type": "application/json" },
    })
  );
  await assert.rejects(exchange(s.looker), fails("invalid_response"));
});

Deno.test("exchangeCode() refuses JSON that is not an object", async () => {
  for (const body of [[NEW_ACCESS], "token", null, 42]) {
    await using s = serve(() => Response.json(body));
    await assert.rejects(exchange(s.looker), fails("invalid_response"));
  }
});

Deno.test("exchangeCode() refuses an empty 200 answer", async () => {
  await using s = serve(() =>
    new Response("", { headers: { "content-type": "application/json" } })
  );
  await assert.rejects(exchange(s.looker), fails("invalid_response"));
});

Deno.test("exchangeCode() refuses missing arguments before any request", async () => {
  await using s = serve(() => tokens());
  for (
    const extra of [
      { clientId: "" },
      { code: "" },
      { codeVerifier: "" },
      { redirectUri: "" },
    ]
  ) {
    await assert.rejects(exchange(s.looker, extra), fails("invalid_argument"));
  }
  assert.equal(s.requests.length, 0);
});

// --- refreshTokens ----------------------------------------------------------

Deno.test("refreshTokens() sends grant_type, refresh_token, client_id and redirect_uri to Looker", async () => {
  await using s = serve(() => tokens());
  await refresh(s.looker);
  assert.equal(s.requests.length, 1);
  const [req] = s.requests;
  assert.equal(req!.method, "POST");
  assert.equal(req!.path, "/api/token");
  assert.equal(req!.headers.get("authorization"), null);
  assert.deepEqual(Object.fromEntries(req!.form), {
    grant_type: "refresh_token",
    refresh_token: REFRESH,
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
  });
});

Deno.test("refreshTokens() sends a narrower scope when asked", async () => {
  await using s = serve(() => tokens());
  await refresh(s.generic, { redirectUri: undefined, scope: "read" });
  assert.equal(s.requests[0]!.form.get("scope"), "read");
  assert.equal(s.requests[0]!.form.get("redirect_uri"), null);
});

Deno.test("refreshTokens() keeps the old refresh token when the answer has none", async () => {
  await using s = serve(() => tokens({ refresh_token: undefined }));
  const set = await refresh(s.looker);
  assert.equal(set.accessToken, NEW_ACCESS);
  assert.equal(set.refreshToken, REFRESH);
  assert.equal(set.scope, "cors_api");
  assert.equal(set.expiresAt, NOW + 3600 * 1000);
});

Deno.test("refreshTokens() replaces the refresh token when the answer rotates it", async () => {
  await using s = serve(() => tokens());
  const set = await refresh(s.looker);
  assert.equal(set.accessToken, NEW_ACCESS);
  assert.equal(set.refreshToken, NEW_REFRESH);
});

Deno.test("refreshTokens() without a refresh token is login_required, with no request", async () => {
  await using s = serve(() => tokens());
  const { refreshToken: _, ...noRefresh } = OLD;
  await assert.rejects(
    refresh(s.looker, { tokens: noRefresh }),
    fails("login_required"),
  );
  assert.equal(s.requests.length, 0);
});

Deno.test("refreshTokens() for Looker requires the redirect URI", async () => {
  await using s = serve(() => tokens());
  await assert.rejects(
    refresh(s.looker, { redirectUri: undefined }),
    fails("invalid_argument"),
  );
  assert.equal(s.requests.length, 0);
});

Deno.test("refreshTokens() maps invalid_grant and redacts the echoed refresh token", async () => {
  await using s = serve(() =>
    json(400, {
      error: "invalid_grant",
      error_description: `refresh token ${REFRESH} expired`,
    })
  );
  await assert.rejects(refresh(s.looker), fails("invalid_grant", 400));
});

Deno.test("exchangeCode() treats null refresh_token, scope and id_token as absent", async () => {
  await using s = serve(() =>
    tokens({ refresh_token: null, scope: null, id_token: null })
  );
  assert.deepEqual(await exchange(s.generic), {
    accessToken: NEW_ACCESS,
    tokenType: "bearer",
    expiresAt: NOW + 3600 * 1000,
  });
});

Deno.test("refreshTokens() keeps the old refresh token and scope when Looker answers refresh_token: null", async () => {
  // Looker's documented /api/4.0/login answer has this shape.
  await using s = serve(() =>
    Response.json({
      access_token: NEW_ACCESS,
      token_type: "Bearer",
      expires_in: 3600,
      refresh_token: null,
      scope: null,
    })
  );
  const set = await refresh(s.looker);
  assert.equal(set.accessToken, NEW_ACCESS);
  assert.equal(set.refreshToken, REFRESH);
  assert.equal(set.scope, "cors_api");
});

Deno.test("exchangeCode() still refuses a null access_token or token_type", async () => {
  for (const member of ["access_token", "token_type"]) {
    await using s = serve(() => tokens({ [member]: null }));
    await assert.rejects(exchange(s.generic), fails("invalid_response"));
  }
});

/** Tokens with a control character planted in the middle. */
const HOSTILE = ["\x1b]0;pwned\x07", "\r\nX-Injected: 1", "\n", "\0", "\x7f"]
  .map((bad) => `AccessToken-HOSTILE-${bad}-7a6b5c4d3e2f`);

Deno.test("exchangeCode() and refreshTokens() refuse an access_token or refresh_token with control characters, never quoting it", async () => {
  const hidden = failsHiding([...SECRETS, ...HOSTILE]);
  for (const bad of HOSTILE) {
    for (const member of ["access_token", "refresh_token"]) {
      await using s = serve(() => tokens({ [member]: bad }));
      await assert.rejects(exchange(s.generic), hidden("invalid_response"));
      await assert.rejects(refresh(s.looker), hidden("invalid_response"));
    }
  }
});

Deno.test("exchangeCode() and refreshTokens() refuse a scope with control characters", async () => {
  for (const scope of ["cors_api\x1b[2J", "openid\r\nprofile", "a\0"]) {
    await using s = serve(() => tokens({ scope }));
    await assert.rejects(exchange(s.generic), fails("invalid_response"));
    await assert.rejects(refresh(s.looker), fails("invalid_response"));
  }
});

Deno.test("refreshTokens() maps a Looker-style refusal ({message, documentation_url} with 400, 401 or 403) to invalid_grant", async () => {
  for (const status of [400, 401, 403]) {
    await using s = serve(() =>
      json(status, {
        message: "Invalid refresh token",
        documentation_url: "https://cloud.google.com/looker/docs/r/api/support",
      })
    );
    await assert.rejects(refresh(s.looker), fails("invalid_grant", status));
  }
});

// --- error mapping ----------------------------------------------------------

Deno.test("exchangeCode() maps 400 invalid_grant to invalid_grant", async () => {
  await using s = serve(() =>
    json(400, { error: "invalid_grant", error_description: "code expired" })
  );
  await assert.rejects(exchange(s.looker), (err) => {
    fails("invalid_grant", 400)(err);
    assert.equal((err as OAuthError).error, "invalid_grant");
    assert.ok((err as OAuthError).hint);
    return true;
  });
});

Deno.test("exchangeCode() maps an error mentioning the redirect to redirect_uri_mismatch", async () => {
  for (
    const body of [
      { error: "invalid_grant", error_description: "redirect_uri mismatch" },
      { error: "invalid_request", error_description: "Invalid redirect URI" },
      { error: "redirect_uri_mismatch" },
    ]
  ) {
    await using s = serve(() => json(400, body));
    await assert.rejects(
      exchange(s.looker),
      fails("redirect_uri_mismatch", 400),
    );
  }
});

Deno.test("exchangeCode() maps invalid_client and unauthorized_client to invalid_client", async () => {
  for (const error of ["invalid_client", "unauthorized_client"]) {
    await using s = serve(() => json(401, { error }));
    await assert.rejects(exchange(s.looker), fails("invalid_client", 401));
  }
});

Deno.test("exchangeCode() maps Looker's Failed Basic Authentication to basic_auth_rejected", async () => {
  for (
    const body of [
      { message: "Failed Basic Authentication" },
      {
        error: "invalid_client",
        error_description: "Failed Basic Authentication",
      },
    ]
  ) {
    await using s = serve(() => json(401, body));
    await assert.rejects(exchange(s.looker), fails("basic_auth_rejected", 401));
  }
});

Deno.test("exchangeCode() gives another server's basic-auth refusal no Looker hint", async () => {
  await using s = serve(() =>
    json(401, {
      error: "invalid_client",
      error_description: "Failed Basic Authentication",
    })
  );
  await assert.rejects(exchange(s.generic), (err) => {
    fails("invalid_client", 401)(err);
    assert.doesNotMatch((err as OAuthError).hint ?? "", /Looker/);
    return true;
  });
});

Deno.test("exchangeCode() maps a 404 from Looker's token endpoint to wrong_host", async () => {
  await using s = serve(() =>
    json(404, {
      message: "Not found",
      documentation_url: "https://cloud.google.com/looker/docs/",
    })
  );
  await assert.rejects(exchange(s.looker), (err) => {
    fails("wrong_host", 404)(err);
    assert.ok((err as OAuthError).hint);
    return true;
  });
  await using html = serve(() =>
    new Response("<html>Not Found</html>", {
      status: 404,
      headers: { "content-type": "text/html" },
    })
  );
  await assert.rejects(exchange(html.looker), fails("wrong_host", 404));
  await assert.rejects(refresh(html.looker), fails("wrong_host", 404));
});

Deno.test("exchangeCode() maps another OAuth error to token_endpoint_error", async () => {
  await using s = serve(() => json(400, { error: "unsupported_grant_type" }));
  await assert.rejects(exchange(s.looker), (err) => {
    fails("token_endpoint_error", 400)(err);
    assert.equal((err as OAuthError).error, "unsupported_grant_type");
    return true;
  });
});

Deno.test("exchangeCode() maps 500 and 503 to server_error and never retries the code", async () => {
  for (const status of [500, 502, 503]) {
    await using s = serve(() =>
      new Response("<h1>Service Unavailable</h1>", {
        status,
        headers: { "content-type": "text/html", "retry-after": "0" },
      })
    );
    await assert.rejects(exchange(s.looker), fails("server_error", status));
    assert.equal(s.requests.length, 1, `${status}: the code was sent again`);
  }
});

Deno.test("exchangeCode() maps an unexpected status to server_error", async () => {
  await using s = serve(() => new Response("teapot", { status: 418 }));
  await assert.rejects(exchange(s.looker), fails("server_error", 418));
});

Deno.test("exchangeCode() does not follow a redirect from the token endpoint", async () => {
  await using s = serve((seen) =>
    seen.path === "/api/token"
      ? new Response(null, {
        status: 307,
        headers: { location: "/elsewhere" },
      })
      : tokens()
  );
  await assert.rejects(exchange(s.looker), (err) => err instanceof OAuthError);
  assert.deepEqual(s.requests.map((r) => r.path), ["/api/token"]);
});

Deno.test("exchangeCode() redacts the code and verifier echoed in an error description", async () => {
  await using s = serve(() =>
    json(400, {
      error: "invalid_grant",
      error_description:
        `code ${CODE} does not match code_verifier ${VERIFIER}`,
    })
  );
  await assert.rejects(exchange(s.looker), (err) => {
    fails("invalid_grant", 400)(err);
    assert.ok((err as OAuthError).errorDescription?.includes("[redacted]"));
    return true;
  });
  await using echo = serve(() =>
    json(500, { message: `failed on ${CODE}/${VERIFIER}` })
  );
  await assert.rejects(exchange(echo.looker), fails("server_error", 500));
});

// --- transport --------------------------------------------------------------

Deno.test("exchangeCode() stops reading a 50 MB streamed body at the default limit", async () => {
  const total = 50 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).fill(0x20); // spaces: still JSON
  let sent = 0;
  let cancelled!: () => void;
  const wasCancelled = new Promise<void>((resolve) => cancelled = resolve);
  await using s = serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) {
            controller.close();
            return;
          }
          sent += chunk.byteLength;
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled();
        },
      }, { highWaterMark: 0 }),
      { headers: { "content-type": "application/json" } },
    )
  );
  await assert.rejects(exchange(s.looker), fails("response_too_large"));
  await wasCancelled;
  assert.ok(sent < total, `the whole body was sent (${sent} bytes)`);
});

Deno.test("exchangeCode() refuses a declared Content-Length above the limit", async () => {
  await using s = serve(() =>
    new Response(" ".repeat(64 * 1024), {
      headers: { "content-type": "application/json" },
    })
  );
  await assert.rejects(
    exchange(s.looker, { maxResponseBytes: 1024 }),
    fails("response_too_large"),
  );
});

/**
 * A server that writes `head` (status line and headers) and then `body` as
 * given, byte for byte: for framings Deno.serve will not send. With
 * `stall`, it keeps the connection open after the body instead of closing.
 */
function serveRaw(head: string, body: Uint8Array, stall = false) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const open = new Set<Deno.Conn>();
  const served = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      try {
        await conn.read(new Uint8Array(64 * 1024));
        await conn.write(new TextEncoder().encode(head));
        for (let at = 0; at < body.length; at += 16 * 1024) {
          await conn.write(body.subarray(at, at + 16 * 1024));
        }
      } catch {
        // the client gave up: expected
      }
      if (!stall) {
        open.delete(conn);
        conn.close();
      }
    }
  })();
  const base = `http://127.0.0.1:${port}`;
  return {
    looker: lookerServer({ lookerUrl: base, apiUrl: base }),
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) conn.close();
      await served.catch(() => {});
    },
  };
}

function chunked(text: string): Uint8Array {
  const size = 16 * 1024;
  let out = "";
  for (let at = 0; at < text.length; at += size) {
    const part = text.slice(at, at + size);
    out += `${part.length.toString(16)}\r\n${part}\r\n`;
  }
  return new TextEncoder().encode(`${out}0\r\n\r\n`);
}

Deno.test("exchangeCode() counts a chunked body whose Content-Length claims less", async () => {
  // Transfer-Encoding overrides Content-Length: the body is not cut at 10.
  await using s = serveRaw(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
      "content-length: 10\r\ntransfer-encoding: chunked\r\n\r\n",
    chunked(" ".repeat(64 * 1024)),
  );
  await assert.rejects(
    exchange(s.looker, { maxResponseBytes: 1024 }),
    fails("response_too_large"),
  );
});

Deno.test("exchangeCode() counts a compressed body after decoding, not its Content-Length", async () => {
  const gzip = new Uint8Array(
    await new Response(
      new Blob([" ".repeat(64 * 1024)]).stream().pipeThrough(
        new CompressionStream("gzip"),
      ),
    ).arrayBuffer(),
  );
  assert.ok(gzip.length < 1024);
  await using s = serveRaw(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
      `content-encoding: gzip\r\ncontent-length: ${gzip.length}\r\n\r\n`,
    gzip,
  );
  await assert.rejects(
    exchange(s.looker, { maxResponseBytes: 1024 }),
    fails("response_too_large"),
  );
});

Deno.test("exchangeCode() gives up on a body that stops short of its Content-Length", async () => {
  await using s = serveRaw(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
      "content-length: 100\r\n\r\n",
    new TextEncoder().encode('{"access_token":'),
    true,
  );
  await assert.rejects(exchange(s.looker, { timeout: 300 }), fails("timeout"));
});

Deno.test("exchangeCode() gives up on a body that drips slowly", async () => {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let cancelled!: () => void;
  const wasCancelled = new Promise<void>((resolve) => cancelled = resolve);
  await using s = serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"access_token":'));
        },
        pull(controller) {
          return new Promise((resolve) => {
            const id = setTimeout(() => {
              timers.delete(id);
              controller.enqueue(new TextEncoder().encode(" "));
              resolve();
            }, 50);
            timers.add(id);
          });
        },
        cancel() {
          for (const id of timers) clearTimeout(id);
          timers.clear();
          cancelled();
        },
      }, { highWaterMark: 0 }),
      { headers: { "content-type": "application/json" } },
    )
  );
  await assert.rejects(exchange(s.looker, { timeout: 300 }), fails("timeout"));
  await wasCancelled;
  assert.equal(s.requests.length, 1);
});

Deno.test("exchangeCode() gives up on a server that never answers", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  await using s = serve(async () => {
    await released;
    return tokens();
  });
  try {
    await assert.rejects(
      exchange(s.looker, { timeout: 300 }),
      fails("timeout"),
    );
  } finally {
    release();
  }
});

Deno.test("exchangeCode() reports a refused connection as network_error", async () => {
  const port = closedPort();
  const server = lookerServer({ lookerUrl: `http://127.0.0.1:${port}` });
  await assert.rejects(exchange(server), fails("network_error"));
  await assert.rejects(refresh(server), fails("network_error"));
});

Deno.test("exchangeCode() honours an abort signal", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const controller = new AbortController();
  await using s = serve(async () => {
    controller.abort();
    await released;
    return tokens();
  });
  try {
    await assert.rejects(
      exchange(s.looker, { signal: controller.signal }),
      (err) => err instanceof OAuthError,
    );
  } finally {
    release();
  }
});

Deno.test("exchangeCode() sends through an injected fetch", async () => {
  await using s = serve(() => tokens());
  const urls: string[] = [];
  await exchange(s.looker, {
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      urls.push(String(input));
      return fetch(input, init);
    },
  });
  assert.deepEqual(urls, [`${s.base}/api/token`]);
});
