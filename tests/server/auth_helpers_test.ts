// The server sign-in helpers on Deno.serve (127.0.0.1) against the Looker
// emulator: the whole flow, the cookies' flags, every kind of bad input (which
// must get a 400 and no token request), sign-out, and refresh.
import assert from "node:assert/strict";
import { discover, lookerServer, OAuthError } from "../../src/core/mod.ts";
import { browse } from "../../src/emulator/user_agent.ts";
import { startOidcProvider } from "../_oidc_provider.ts";
import {
  createAuthHelpers,
  MemorySessionStore,
  SignInError,
} from "../../src/server/mod.ts";
import {
  appHandler,
  Client,
  CLIENT_ID,
  errorCode,
  redirected,
  SECRET,
  signIn,
  startApp,
  startSignIn,
} from "./_app.ts";

function attributes(setCookie: string): Map<string, string> {
  const [, ...parts] = setCookie.split(";");
  return new Map(
    parts.map((part) => {
      const [name, value = ""] = part.trim().split("=");
      return [name!.toLowerCase(), value];
    }),
  );
}

function setCookieOf(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((c) =>
    c.startsWith(`${name}=`)
  );
  assert.ok(line, `no Set-Cookie for ${name}`);
  return line;
}

Deno.test("signIn() redirects to Looker's /auth with S256 PKCE and a sealed, path-scoped, 10-minute cookie", async () => {
  await using app = await startApp();
  const response = await new Client().fetch(`${app.base}/signin`);
  const location = await redirected(response);
  assert.equal(
    location.origin + location.pathname,
    `${app.looker.lookerUrl}/auth`,
  );
  assert.equal(location.searchParams.get("client_id"), CLIENT_ID);
  assert.equal(location.searchParams.get("redirect_uri"), app.redirectUri);
  assert.equal(location.searchParams.get("code_challenge_method"), "S256");
  const state = location.searchParams.get("state")!;
  const cookie = setCookieOf(response, "looker_oauth_signin");
  const attrs = attributes(cookie);
  assert.equal(attrs.get("path"), "/callback");
  assert.equal(attrs.get("max-age"), "600");
  assert.ok(attrs.has("httponly"));
  assert.equal(attrs.get("samesite"), "Lax");
  assert.ok(!attrs.has("secure"), "no Secure on a loopback http: app");
  // Sealed: neither the state nor the verifier can be read from it.
  const value = cookie.split(";")[0]!.split("=")[1]!;
  assert.ok(!value.includes(state));
  assert.ok(!atob(value.replace(/-/g, "+").replace(/_/g, "/")).includes(state));
  assert.equal(response.headers.get("cache-control"), "no-store");
});

Deno.test("signIn() sets Secure cookies for an https: app", async () => {
  const auth = createAuthHelpers({
    server: lookerServer({ lookerUrl: "https://example.looker.com" }),
    clientId: CLIENT_ID,
    redirectUri: "https://app.example.com/auth/callback",
    cookieSecret: SECRET,
    store: new MemorySessionStore(),
  });
  const response = await auth.signIn(
    new Request("https://app.example.com/signin"),
  );
  const attrs = attributes(setCookieOf(response, "looker_oauth_signin"));
  assert.ok(attrs.has("secure"));
  assert.equal(attrs.get("path"), "/auth/callback");
});

Deno.test("handleCallback() stores the tokens server-side, sets an HttpOnly session cookie, clears the sign-in cookie and returns to the saved page", async () => {
  await using app = await startApp();
  const client = new Client();
  const callback = await startSignIn(
    client,
    app.base,
    "/signin?returnTo=%2Freports%3Fid%3D7%23top",
  );
  const response = await client.fetch(callback);
  const back = await redirected(response);
  assert.equal(back.href, `${app.base}/reports?id=7#top`);
  const session = attributes(setCookieOf(response, "looker_oauth_session"));
  assert.ok(session.has("httponly"));
  assert.equal(session.get("samesite"), "Lax");
  assert.equal(session.get("path"), "/");
  assert.equal(session.get("max-age"), String(7 * 24 * 3600));
  const cleared = attributes(setCookieOf(response, "looker_oauth_signin"));
  assert.equal(cleared.get("max-age"), "0");
  assert.equal(cleared.get("path"), "/callback");
  // The browser holds a random id, not a token.
  const id = client.cookie(app.base, "looker_oauth_session")!;
  assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(app.looker.stats.codeExchanges, 1);

  const home = await (await client.fetch(`${app.base}/`)).json();
  assert.equal(home.signedIn, true);
  assert.equal(home.user.display_name, "Ada Lovelace");
});

Deno.test("handleCallback() refuses a tampered sign-in cookie with a 400 and no token request", async () => {
  await using app = await startApp();
  const client = new Client();
  const callback = await startSignIn(client, app.base);
  const sealed = client.cookie(app.base, "looker_oauth_signin")!;
  const flipped = sealed.slice(0, 30) +
    (sealed[30] === "A" ? "B" : "A") + sealed.slice(31);
  client.setCookie(app.base, "looker_oauth_signin", flipped);
  const response = await client.fetch(callback);
  assert.equal(response.status, 400);
  assert.equal(await errorCode(response), "invalid_seal");
  assert.deepEqual(response.headers.getSetCookie(), []);
  assert.equal(app.looker.stats.tokenRequests, 0);
});

Deno.test("handleCallback() refuses a sign-in cookie sealed under a secret that is not configured", async () => {
  await using app = await startApp();
  const client = new Client();
  const callback = await startSignIn(client, app.base);
  const other = createAuthHelpers({
    ...app.options,
    cookieSecret: "another secret that is long enough, 32+",
  });
  const response = await other.handleCallback(
    new Request(callback, {
      headers: {
        cookie: `looker_oauth_signin=${
          client.cookie(app.base, "looker_oauth_signin")
        }`,
      },
    }),
  );
  assert.equal(response.status, 400);
  assert.equal(await errorCode(response), "invalid_seal");
  assert.equal(app.looker.stats.tokenRequests, 0);
});

Deno.test("handleCallback() refuses a sign-in cookie older than 10 minutes", async () => {
  let now = Date.now();
  await using app = await startApp({ now: () => now });
  const client = new Client();
  const callback = await startSignIn(client, app.base);
  now += 10 * 60_000 + 1;
  const response = await client.fetch(callback);
  assert.equal(response.status, 400);
  assert.equal(await errorCode(response), "expired_seal");
  assert.equal(app.looker.stats.tokenRequests, 0);
});

Deno.test("handleCallback() without the sign-in cookie gets a 400", async () => {
  await using app = await startApp();
  const client = new Client();
  const callback = await startSignIn(client, app.base);
  const response = await new Client().fetch(callback);
  assert.equal(response.status, 400);
  assert.equal(await errorCode(response), "missing_cookie");
  assert.equal(app.looker.stats.tokenRequests, 0);
});

Deno.test("handleCallback() refuses a replayed callback, even with the sign-in cookie kept, without a second token request", async () => {
  await using app = await startApp();
  const client = new Client();
  const callback = await startSignIn(client, app.base);
  const sealed = client.cookie(app.base, "looker_oauth_signin")!;
  await redirected(await client.fetch(callback));
  assert.equal(app.looker.stats.tokenRequests, 1);
  const attacker = new Client();
  attacker.setCookie(app.base, "looker_oauth_signin", sealed);
  const response = await attacker.fetch(callback);
  assert.equal(response.status, 400);
  assert.equal(await errorCode(response), "replayed_callback");
  assert.deepEqual(response.headers.getSetCookie(), []);
  assert.equal(app.looker.stats.tokenRequests, 1);
});

Deno.test("handleCallback() refuses a forged state before anything else: 400, no token request, the sign-in cookie kept", async () => {
  await using app = await startApp();
  const client = new Client();
  const callback = await startSignIn(client, app.base);
  callback.searchParams.set(
    "state",
    "forged-state-value-0123456789abcdefghijk",
  );
  const response = await client.fetch(callback);
  assert.equal(response.status, 400);
  assert.equal(await errorCode(response), "state_mismatch");
  assert.deepEqual(response.headers.getSetCookie(), []);
  assert.equal(app.looker.stats.tokenRequests, 0);
  assert.ok(client.cookie(app.base, "looker_oauth_signin"));
});

Deno.test("handleCallback() shows an error= callback as a 400 page without echoing it", async () => {
  await using app = await startApp({}, { autoApprove: false });
  const client = new Client();
  const auth = await redirected(await client.fetch(`${app.base}/signin`));
  const callback = new URL(app.redirectUri);
  callback.searchParams.set("error", "access_denied");
  callback.searchParams.set("error_description", "<script>x</script>");
  callback.searchParams.set("state", auth.searchParams.get("state")!);
  const response = await client.fetch(callback);
  assert.equal(response.status, 400);
  const body = await response.clone().text();
  assert.ok(!body.includes("<script>"));
  assert.equal(await errorCode(response), "access_denied");
  assert.equal(app.looker.stats.tokenRequests, 0);
});

for (
  const returnTo of [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "evil.example",
    "/ok\n",
  ]
) {
  Deno.test(`signIn() refuses returnTo=${JSON.stringify(returnTo)} with a 400 and sets no cookie`, async () => {
    await using app = await startApp();
    const response = await new Client().fetch(
      `${app.base}/signin?returnTo=${encodeURIComponent(returnTo)}`,
    );
    assert.equal(response.status, 400);
    assert.equal(await errorCode(response), "invalid_return_to");
    assert.deepEqual(response.headers.getSetCookie(), []);
    assert.equal(app.looker.stats.authorizations, 0);
  });
}

Deno.test("signOut() answers GET with 405 and Allow: POST, and keeps the session", async () => {
  await using app = await startApp();
  const client = new Client();
  await signIn(client, app.base);
  const response = await client.fetch(`${app.base}/signout`);
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "POST");
  await response.body?.cancel();
  assert.equal(
    (await (await client.fetch(`${app.base}/`)).json()).signedIn,
    true,
  );
  assert.equal(app.looker.stats.logouts, 0);
});

Deno.test("signOut() refuses a cross-site POST with a 403", async () => {
  await using app = await startApp();
  const client = new Client();
  await signIn(client, app.base);
  const response = await client.fetch(`${app.base}/signout`, {
    method: "POST",
    headers: { origin: "https://evil.example" },
  });
  assert.equal(response.status, 403);
  await response.body?.cancel();
  assert.equal(
    (await (await client.fetch(`${app.base}/`)).json()).signedIn,
    true,
  );
});

Deno.test("signOut() logs out of Looker, deletes the session and clears the cookie", async () => {
  await using app = await startApp();
  const client = new Client();
  await signIn(client, app.base);
  const id = client.cookie(app.base, "looker_oauth_session")!;
  const response = await client.fetch(`${app.base}/signout`, {
    method: "POST",
    headers: { origin: app.base },
  });
  assert.equal((await redirected(response, 303)).pathname, "/");
  const cleared = attributes(setCookieOf(response, "looker_oauth_session"));
  assert.equal(cleared.get("max-age"), "0");
  assert.equal(app.looker.stats.logouts, 1);
  assert.equal((app.store as MemorySessionStore).size, 0);
  // The old cookie, replayed, no longer opens a session.
  const replay = new Client();
  replay.setCookie(app.base, "looker_oauth_session", id);
  assert.equal(
    (await (await replay.fetch(`${app.base}/`)).json()).signedIn,
    false,
  );
});

Deno.test("getSession() ignores unknown and malformed session cookies", async () => {
  await using app = await startApp();
  for (const value of ["x", "A".repeat(43), "../../etc/passwd"]) {
    const session = await app.auth.getSession(
      new Request(app.base, {
        headers: { cookie: `looker_oauth_session=${value}` },
      }),
    );
    assert.equal(session, undefined);
  }
});

Deno.test("ServerSession.fetch() refreshes an expired token once for 10 concurrent requests (memory store, rotating Looker)", async () => {
  let now = Date.now();
  await using app = await startApp({ now: () => now });
  const client = new Client();
  await signIn(client, app.base);
  now += 3600_000; // the access token has expired
  app.looker.expireAccessTokens();
  const pages = await Promise.all(
    Array.from({ length: 10 }, () => client.fetch(`${app.base}/`)),
  );
  for (const page of pages) {
    const body = await page.json();
    assert.equal(body.status, 200);
    assert.equal(body.user.display_name, "Ada Lovelace");
  }
  assert.equal(app.looker.stats.refreshes, 1);
  assert.equal(app.looker.stats.refreshReuses, 0);
});

Deno.test("a session whose refresh token Looker refused is deleted: the next request is signed out", async () => {
  let now = Date.now();
  await using app = await startApp({ now: () => now });
  const client = new Client();
  await signIn(client, app.base);
  // Revoke the grant behind the app's back, then let the token expire.
  const session = await app.auth.getSession(
    new Request(app.base, {
      headers: {
        cookie: `looker_oauth_session=${
          client.cookie(app.base, "looker_oauth_session")
        }`,
      },
    }),
  );
  const tokens = await session!.getTokens();
  const logout = await fetch(`${app.looker.apiUrl}/api/4.0/logout`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${tokens.accessToken}` },
  });
  await logout.body?.cancel();
  now += 3600_000;
  await assert.rejects(
    session!.getAccessToken(),
    (err) => err instanceof OAuthError && err.code === "login_required",
  );
  assert.equal(
    (await (await client.fetch(`${app.base}/`)).json()).signedIn,
    false,
  );
});

Deno.test("createAuthHelpers() refuses a missing or short cookie secret with weak_secret", () => {
  const base = {
    server: lookerServer({ lookerUrl: "https://example.looker.com" }),
    clientId: CLIENT_ID,
    redirectUri: "https://app.example.com/callback",
    store: new MemorySessionStore(),
  };
  for (
    const cookieSecret of [
      undefined,
      "",
      "31 bytes of secret, not 32.....",
      [],
      [SECRET, "short"],
    ]
  ) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createAuthHelpers({ ...base, cookieSecret: cookieSecret as any }),
      (err) => err instanceof SignInError && err.code === "weak_secret",
    );
  }
  // 32 bytes of UTF-8 are enough, whatever the number of characters.
  createAuthHelpers({ ...base, cookieSecret: "é".repeat(16) });
});

Deno.test("createAuthHelpers() refuses a config without client id, redirect URI or store", () => {
  const base = {
    server: lookerServer({ lookerUrl: "https://example.looker.com" }),
    clientId: CLIENT_ID,
    redirectUri: "https://app.example.com/callback",
    cookieSecret: SECRET,
    store: new MemorySessionStore(),
  };
  for (
    const bad of [
      { clientId: "" },
      { redirectUri: "/callback" },
      { redirectUri: "javascript:alert(1)" },
      { store: {} },
      { afterSignOut: "https://evil.example/" },
      { cookieName: "a b" },
    ]
  ) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createAuthHelpers({ ...base, ...bad } as any),
      (err) => err instanceof SignInError && err.code === "invalid_config",
      JSON.stringify(bad),
    );
  }
});

Deno.test("a rotated secret: sign-ins started under the old secret complete when it is still listed second", async () => {
  const oldSecret = "the old cookie secret, 32 bytes or more";
  await using app = await startApp({ cookieSecret: oldSecret });
  const client = new Client();
  const callback = await startSignIn(client, app.base);
  const cookie = `looker_oauth_signin=${
    client.cookie(app.base, "looker_oauth_signin")
  }`;
  const rotated = createAuthHelpers({
    ...app.options,
    cookieSecret: [SECRET, oldSecret],
  });
  const done = await appHandler(rotated)(
    new Request(callback, { headers: { cookie } }),
  );
  assert.equal(done.status, 302);
  assert.ok(setCookieOf(done, "looker_oauth_session"));
});

Deno.test("handleCallback() of an openid sign-in at a provider that requires a nonce checks it in the ID token", async () => {
  const ready: { auth?: ReturnType<typeof createAuthHelpers> } = {};
  await using app = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const auth = ready.auth!;
      const { pathname } = new URL(request.url);
      if (pathname === "/signin") return await auth.signIn(request);
      if (pathname === "/callback") return await auth.handleCallback(request);
      const session = await auth.getSession(request);
      return Response.json({
        signedIn: session !== undefined,
        idToken: (await session?.getTokens())?.idToken ?? null,
      });
    },
  );
  const base = `http://127.0.0.1:${app.addr.port}`;
  await using op = await startOidcProvider({
    requireNonce: true,
    redirectUris: [`${base}/callback`],
  });
  ready.auth = createAuthHelpers({
    server: await discover(op.issuer),
    clientId: op.clientId,
    redirectUri: `${base}/callback`,
    cookieSecret: SECRET,
    store: new MemorySessionStore(),
    scope: "openid",
  });
  let nonce: string | null = null;
  const page = await browse(new URL(`${base}/signin`), {
    onVisit: (url) => {
      if (url.origin === op.issuer && url.searchParams.has("nonce")) {
        nonce ??= url.searchParams.get("nonce");
      }
    },
  });
  assert.equal(page.status, 200, page.body);
  const shown = JSON.parse(page.body);
  assert.equal(shown.signedIn, true);
  assert.ok(nonce, "a nonce was sent with openid");
  const payload = shown.idToken.split(".")[1];
  assert.equal(
    JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))).nonce,
    nonce,
  );
});
