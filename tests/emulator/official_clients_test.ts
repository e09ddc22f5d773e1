// The emulator accepts what Looker's official clients send: the TypeScript
// SDK's padded base64url challenge, the Python SDK's hex one, sign-out at
// /api/logout, versions without a token, API3 login's null refresh token,
// and deleting a client app that is already gone.
import assert from "node:assert/strict";
import {
  type LookerEmulator,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";

const CLIENT_ID = "sdk-app";
const REDIRECT_URI = "http://127.0.0.1:8080/callback";

async function start(): Promise<LookerEmulator> {
  return await startLookerEmulator({
    autoApprove: true,
    apps: [{
      client_guid: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      display_name: "SDK app",
      description: "The official SDKs",
      enabled: true,
    }],
    apiCredentials: { clientId: "key", clientSecret: "secret" },
  });
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
}

/** The TypeScript SDK's spelling: base64url, `=` padding left on. */
async function paddedBase64url(verifier: string): Promise<string> {
  return btoa(String.fromCharCode(...await sha256(verifier)))
    .replace(/\+/g, "-").replace(/\//g, "_");
}

/** The Python SDK's spelling: the digest in hex. */
async function hexDigest(verifier: string): Promise<string> {
  return [...await sha256(verifier)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** 33 random bytes in hex, as the TypeScript SDK's verifier. */
function hexVerifier(): string {
  return [...crypto.getRandomValues(new Uint8Array(33))].map((b) =>
    b.toString(16).padStart(2, "0")
  ).join("");
}

async function codeFor(looker: LookerEmulator, challenge: string) {
  const url = new URL("/auth", looker.lookerUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: "cors_api",
    state: "s",
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  const response = await fetch(url, { redirect: "manual" });
  await response.body?.cancel();
  assert.equal(response.status, 302);
  const code = new URL(response.headers.get("location")!).searchParams.get(
    "code",
  );
  assert.ok(code, response.headers.get("location")!);
  return code;
}

async function exchange(
  looker: LookerEmulator,
  code: string,
  verifier: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${looker.apiUrl}/api/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "authorization_code",
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      code,
      code_verifier: verifier,
    }),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("the emulator takes a padded base64url challenge and a hex one, and still checks the verifier", async () => {
  await using looker = await start();
  for (const spell of [paddedBase64url, hexDigest]) {
    const verifier = hexVerifier();
    const challenge = await spell(verifier);
    const ok = await exchange(
      looker,
      await codeFor(looker, challenge),
      verifier,
    );
    assert.equal(ok.status, 200, `${spell.name}: ${JSON.stringify(ok.body)}`);
    assert.equal(typeof ok.body.access_token, "string");

    const wrong = await exchange(
      looker,
      await codeFor(looker, challenge),
      hexVerifier(),
    );
    assert.equal(wrong.status, 400, spell.name);
    assert.equal(wrong.body.error, "invalid_grant");
  }
  // Upper-case hex is the same digest.
  const verifier = hexVerifier();
  const upper = (await hexDigest(verifier)).toUpperCase();
  const ok = await exchange(looker, await codeFor(looker, upper), verifier);
  assert.equal(ok.status, 200);
});

Deno.test("DELETE /api/logout signs out as DELETE /api/4.0/logout does", async () => {
  await using looker = await start();
  const verifier = hexVerifier();
  const code = await codeFor(looker, await paddedBase64url(verifier));
  const { body } = await exchange(looker, code, verifier);
  const bearer = { authorization: `Bearer ${body.access_token}` };
  const out = await fetch(`${looker.apiUrl}/api/logout`, {
    method: "DELETE",
    headers: bearer,
  });
  await out.body?.cancel();
  assert.equal(out.status, 204);
  assert.equal(looker.stats.logouts, 1);
  const me = await fetch(`${looker.apiUrl}/api/4.0/user`, { headers: bearer });
  await me.body?.cancel();
  assert.equal(me.status, 401);
  const anonymous = await fetch(`${looker.apiUrl}/api/logout`, {
    method: "DELETE",
  });
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
});

Deno.test("GET /api/versions and /api/4.0/versions answer without a token", async () => {
  await using looker = await start();
  for (const path of ["/api/versions", "/api/4.0/versions"]) {
    const response = await fetch(`${looker.apiUrl}${path}`);
    assert.equal(response.status, 200, path);
    const versions = await response.json();
    assert.equal(versions.api_server_url, looker.apiUrl);
    assert.equal(versions.web_server_url, looker.lookerUrl);
  }
});

Deno.test("POST /api/4.0/login answers with refresh_token null, as Looker does", async () => {
  await using looker = await start();
  const response = await fetch(`${looker.apiUrl}/api/4.0/login`, {
    method: "POST",
    body: new URLSearchParams({ client_id: "key", client_secret: "secret" }),
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(typeof body.access_token, "string");
  assert.ok("refresh_token" in body);
  assert.equal(body.refresh_token, null);
});

Deno.test("deleting a client app that does not exist is not an error", async () => {
  await using looker = await start();
  const login = await fetch(`${looker.apiUrl}/api/4.0/login`, {
    method: "POST",
    body: new URLSearchParams({ client_id: "key", client_secret: "secret" }),
  });
  const { access_token: token } = await login.json();
  const remove = async (guid: string) => {
    const response = await fetch(
      `${looker.apiUrl}/api/4.0/oauth_client_apps/${guid}`,
      { method: "DELETE", headers: { authorization: `Bearer ${token}` } },
    );
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await remove(CLIENT_ID), 204);
  assert.equal(await remove(CLIENT_ID), 204);
  assert.equal(await remove("never-registered"), 204);
  const gone = await fetch(
    `${looker.apiUrl}/api/4.0/oauth_client_apps/${CLIENT_ID}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  await gone.body?.cancel();
  assert.equal(gone.status, 404);
});
