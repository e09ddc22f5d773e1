// The server sign-in helpers on the generic path, against panva's certified
// oidc-provider: discovery, sign-in through its login and consent forms, the
// UserInfo endpoint through ServerSession.fetch(), one refresh for many
// concurrent callers on a rotating refresh token, and sign-out by RFC 7009
// revocation.
import assert from "node:assert/strict";
import { discover } from "../../src/core/mod.ts";
import { browse } from "../../src/emulator/user_agent.ts";
import {
  type AuthHelpers,
  createAuthHelpers,
  MemorySessionStore,
} from "../../src/server/mod.ts";
import { startOidcProvider } from "../_oidc_provider.ts";
import { SECRET } from "./_app.ts";

Deno.test("server helpers on oidc-provider: sign in, UserInfo, one refresh for 10 callers, sign-out revokes", async () => {
  let now = Date.now();
  const ready: { auth?: AuthHelpers } = {};
  const store = new MemorySessionStore({ now: () => now });
  await using app = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const auth = ready.auth!;
      const { pathname } = new URL(request.url);
      if (pathname === "/signin") return await auth.signIn(request);
      if (pathname === "/callback") return await auth.handleCallback(request);
      if (pathname === "/signout") return await auth.signOut(request);
      const session = await auth.getSession(request);
      if (!session) return Response.json({ signedIn: false });
      const info = await session.fetch("/me");
      return Response.json({ signedIn: true, status: info.status });
    },
  );
  const base = `http://127.0.0.1:${app.addr.port}`;
  await using op = await startOidcProvider({
    redirectUris: [`${base}/callback`],
  });
  const server = await discover(op.issuer);
  ready.auth = createAuthHelpers({
    server,
    clientId: op.clientId,
    redirectUri: `${base}/callback`,
    cookieSecret: SECRET,
    store,
    scope: "openid offline_access",
    extraParams: { prompt: "consent" },
    apiUrl: op.issuer,
    now: () => now,
  });

  // The scripted person keeps the app's cookies; capture the session one.
  let cookie: string | undefined;
  const page = await browse(new URL(`${base}/signin`), {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      for (const line of response.headers.getSetCookie()) {
        if (line.startsWith("looker_oauth_session=")) {
          cookie = line.split(";")[0];
        }
      }
      return response;
    },
  });
  assert.equal(page.status, 200, page.body);
  assert.deepEqual(JSON.parse(page.body), { signedIn: true, status: 200 });
  assert.ok(cookie);
  const session = await ready.auth.getSession(
    new Request(base, { headers: { cookie } }),
  );
  assert.ok((await session!.getTokens()).refreshToken);

  now += 2 * 3600_000; // the access token has expired
  const tokens = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const s = await ready.auth!.getSession(
        new Request(base, { headers: { cookie: cookie! } }),
      );
      return await s!.getAccessToken();
    }),
  );
  assert.equal(new Set(tokens).size, 1);
  assert.equal(op.stats.refreshes, 1);
  assert.deepEqual(op.stats.serverErrors, []);

  const out = await fetch(`${base}/signout`, {
    method: "POST",
    headers: { cookie, origin: base },
    redirect: "manual",
  });
  await out.body?.cancel();
  assert.equal(out.status, 303);
  assert.ok(op.stats.revocations >= 1);
  assert.equal(store.size, 0);
});
