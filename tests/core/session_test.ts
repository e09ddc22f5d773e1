import assert from "node:assert/strict";
import {
  type AuthServer,
  lookerServer,
  MemoryTokenStore,
  oauthServer,
  TokenSession,
  type TokenSessionOptions,
  type TokenSet,
  type TokenStore,
} from "../../src/core/mod.ts";
import { failsHiding } from "../_errors.ts";
import { type RecordingServer, serveRecording } from "../_recording_server.ts";

const CLIENT_ID = "looker-oauth-test-client";
const REDIRECT = "http://localhost:8080/callback";
const ACCESS = "AccessToken-initial-b8e1d2c3a4f5e6d7c8b9a0f1";
const REFRESH = "RefreshToken-initial-1a2b3c4d5e6f7a8b9c0d1e2f";
const NOW = 1_700_000_000_000;

function initial(expiresIn: number): TokenSet {
  return {
    accessToken: ACCESS,
    tokenType: "bearer",
    expiresAt: NOW + expiresIn,
    refreshToken: REFRESH,
  };
}

interface FakeOptions {
  /** Refuse every refresh with invalid_grant. */
  refuse?: boolean;
  /** The API accepts the initial access token. Default true. */
  acceptInitial?: boolean;
  /** The API answers 401 to everything. */
  always401?: boolean;
  /** Runs when a refresh request has arrived, before it is answered. */
  beforeRefreshAnswer?: () => unknown;
  /** Where `GET /api/4.0/moved` redirects to. */
  redirectTo?: string;
}

/**
 * A loopback stand-in for Looker's API host: `/api/token` (refresh grant,
 * rotating refresh tokens, reuse of an old one revokes the grant),
 * `GET /api/4.0/user`, `DELETE /api/4.0/logout`.
 */
function fakeLooker(options: FakeOptions = {}) {
  const state = {
    refreshes: 0,
    refreshToken: REFRESH as string | undefined,
    access: new Set<string>(options.acceptInitial === false ? [] : [ACCESS]),
    apiCalls: [] as (string | null)[],
    logouts: [] as (string | null)[],
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const auth = req.headers.get("authorization");
      const body = await req.text();
      if (req.method === "POST" && url.pathname === "/api/token") {
        const form = new URLSearchParams(body);
        const n = ++state.refreshes;
        await options.beforeRefreshAnswer?.();
        const presented = form.get("refresh_token");
        if (
          options.refuse || state.refreshToken === undefined ||
          presented !== state.refreshToken ||
          form.get("redirect_uri") !== REDIRECT ||
          form.get("client_id") !== CLIENT_ID
        ) {
          // Reuse of a rotated refresh token ends the whole grant.
          state.refreshToken = undefined;
          state.access.clear();
          return Response.json({
            error: "invalid_grant",
            error_description: "refresh token invalid",
          }, { status: 400 });
        }
        state.refreshToken = `RefreshToken-${n}-rotated-9f8e7d6c5b4a`;
        state.access.add(`AccessToken-${n}-refreshed-0a9b8c7d6e5f`);
        return Response.json({
          access_token: `AccessToken-${n}-refreshed-0a9b8c7d6e5f`,
          token_type: "Bearer",
          expires_in: 3600,
          refresh_token: state.refreshToken,
        });
      }
      if (req.method === "GET" && url.pathname === "/api/4.0/user") {
        state.apiCalls.push(auth);
        const token = auth?.replace(/^Bearer /, "");
        if (options.always401 || !token || !state.access.has(token)) {
          return Response.json({ message: "Requires authentication." }, {
            status: 401,
          });
        }
        return Response.json({ id: "1", email: "person@example.com" });
      }
      if (url.pathname === "/api/4.0/moved" && options.redirectTo) {
        return new Response(null, {
          status: 302,
          headers: { location: options.redirectTo },
        });
      }
      if (req.method === "DELETE" && url.pathname === "/api/4.0/logout") {
        state.logouts.push(auth);
        return new Response(null, { status: 204 });
      }
      return Response.json({ message: "Not found" }, { status: 404 });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    server: lookerServer({ lookerUrl: base, apiUrl: base }),
    state,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function session(
  server: AuthServer,
  store: TokenStore,
  extra: Partial<TokenSessionOptions> = {},
): TokenSession {
  return new TokenSession({
    server,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    store,
    now: () => NOW,
    ...extra,
  });
}

const fails = failsHiding([ACCESS, REFRESH]);

/**
 * A fakeLooker whose refreshes wait for `release()`; `arrived` settles when
 * the first refresh request has reached it.
 */
function gatedLooker(): ReturnType<typeof fakeLooker> & {
  arrived: Promise<void>;
  release: () => void;
} {
  const arrived = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const looker = fakeLooker({
    beforeRefreshAnswer: () => {
      arrived.resolve();
      return gate.promise;
    },
  });
  return Object.assign(looker, {
    arrived: arrived.promise,
    release: () => gate.resolve(),
  });
}

/** Another origin, recording the authorization header of every request. */
function otherOrigin(): RecordingServer & {
  authorizations(): (string | null)[];
} {
  const other = serveRecording(() => new Response("ok"));
  return Object.assign(other, {
    authorizations: () =>
      other.requests.map((seen) => seen.headers.get("authorization")),
  });
}

// getAccessToken()

Deno.test("TokenSession.getAccessToken() returns a fresh token without refreshing", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(10 * 60_000));
  assert.equal(await session(looker.server, store).getAccessToken(), ACCESS);
  assert.equal(looker.state.refreshes, 0);
});

Deno.test("TokenSession.getAccessToken() refreshes when fewer than 60 s remain", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(59_000));
  const token = await session(looker.server, store).getAccessToken();
  assert.equal(looker.state.refreshes, 1);
  assert.notEqual(token, ACCESS);
  assert.ok(looker.state.access.has(token));
  const saved = await store.load();
  assert.equal(saved?.accessToken, token);
  assert.equal(saved?.refreshToken, looker.state.refreshToken);
  assert.equal(saved?.expiresAt, NOW + 3600_000);
});

Deno.test("TokenSession.getAccessToken() refreshes an expired token", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(-3600_000));
  const token = await session(looker.server, store).getAccessToken();
  assert.equal(looker.state.refreshes, 1);
  assert.notEqual(token, ACCESS);
});

Deno.test("TokenSession.getAccessToken() honours a configured refresh margin", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(30_000));
  const s = session(looker.server, store, { refreshMargin: 10_000 });
  assert.equal(await s.getAccessToken(), ACCESS);
  assert.equal(looker.state.refreshes, 0);
  const eager = session(looker.server, store, { refreshMargin: 120_000 });
  assert.notEqual(await eager.getAccessToken(), ACCESS);
  assert.equal(looker.state.refreshes, 1);
});

Deno.test("TokenSession.getAccessToken() without tokens is login_required", async () => {
  await using looker = fakeLooker();
  await assert.rejects(
    session(looker.server, new MemoryTokenStore()).getAccessToken(),
    fails("login_required"),
  );
  assert.equal(looker.state.refreshes, 0);
});

Deno.test("TokenSession.getAccessToken() on an expired token without a refresh token is login_required", async () => {
  await using looker = fakeLooker();
  const { refreshToken: _, ...noRefresh } = initial(-1);
  await assert.rejects(
    session(looker.server, new MemoryTokenStore(noRefresh)).getAccessToken(),
    fails("login_required"),
  );
  assert.equal(looker.state.refreshes, 0);
});

// single flight

Deno.test("TokenSession.getAccessToken() called 10 times at once on an expired token refreshes once", async () => {
  await using looker = gatedLooker();
  const store = new MemoryTokenStore(initial(-1));
  const s = session(looker.server, store);
  const all = Promise.all(
    Array.from({ length: 10 }, () => s.getAccessToken()),
  );
  await looker.arrived; // every caller is waiting on the one refresh
  looker.release();
  const tokens = await all;
  assert.equal(looker.state.refreshes, 1);
  assert.equal(new Set(tokens).size, 1);
  assert.notEqual(tokens[0], ACCESS);
  assert.equal((await store.load())?.accessToken, tokens[0]);
});

Deno.test("TokenSession.getAccessToken() shares one refresh in-process even over a store without a lock", async () => {
  await using looker = gatedLooker();
  const memory = new MemoryTokenStore(initial(-1));
  const unlocked: TokenStore = {
    load: () => memory.load(),
    save: (tokens) => memory.save(tokens),
    clear: () => memory.clear(),
  };
  const s = session(looker.server, unlocked);
  const all = Promise.all(
    Array.from({ length: 10 }, () => s.getAccessToken()),
  );
  await looker.arrived;
  looker.release();
  const tokens = await all;
  assert.equal(looker.state.refreshes, 1);
  assert.equal(new Set(tokens).size, 1);
});

Deno.test("TokenSession: 10 sessions sharing one MemoryTokenStore refresh once", async () => {
  await using looker = gatedLooker();
  const store = new MemoryTokenStore(initial(-1));
  const sessions = Array.from(
    { length: 10 },
    () => session(looker.server, store),
  );
  const all = Promise.all(sessions.map((s) => s.getAccessToken()));
  await looker.arrived;
  looker.release();
  const tokens = await all;
  // The server rotates refresh tokens and ends the grant on reuse: a second
  // refresh would have logged everyone out.
  assert.equal(looker.state.refreshes, 1);
  assert.equal(new Set(tokens).size, 1);
  assert.ok(looker.state.access.has(tokens[0]!));
});

Deno.test("TokenSession: a session sees tokens another one refreshed and does not refresh again", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(-1));
  const first = await session(looker.server, store).getAccessToken();
  const second = await session(looker.server, store).getAccessToken();
  assert.equal(first, second);
  assert.equal(looker.state.refreshes, 1);
});

// refused refresh

Deno.test("TokenSession: a refused refresh is login_required and clears the store", async () => {
  await using looker = fakeLooker({ refuse: true });
  const store = new MemoryTokenStore(initial(-1));
  await assert.rejects(
    session(looker.server, store).getAccessToken(),
    fails("login_required"),
  );
  assert.equal(looker.state.refreshes, 1);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession: a refused refresh uses the tokens another process saved meanwhile", async () => {
  const store = new MemoryTokenStore(initial(-1));
  const newer: TokenSet = {
    accessToken: "AccessToken-from-another-process",
    tokenType: "bearer",
    expiresAt: NOW + 3600_000,
    refreshToken: "RefreshToken-from-another-process",
  };
  await using looker = fakeLooker({
    refuse: true,
    // Another process refreshes (and saves) while our request is in flight.
    beforeRefreshAnswer: () => store.save(newer),
  });
  assert.equal(
    await session(looker.server, store).getAccessToken(),
    newer.accessToken,
  );
  assert.deepEqual(await store.load(), newer);
});

Deno.test("TokenSession: concurrent callers all get login_required from one refused refresh", async () => {
  await using looker = fakeLooker({ refuse: true });
  const store = new MemoryTokenStore(initial(-1));
  const s = session(looker.server, store);
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => s.getAccessToken()),
  );
  for (const result of results) {
    assert.equal(result.status, "rejected");
    fails("login_required")((result as PromiseRejectedResult).reason);
  }
  assert.equal(looker.state.refreshes, 1);
});

// fetch()

Deno.test("TokenSession.fetch() sends the bearer token to a path under the API URL", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const response = await session(looker.server, store).fetch("/api/4.0/user");
  assert.equal(response.status, 200);
  assert.equal((await response.json()).id, "1");
  assert.deepEqual(looker.state.apiCalls, [`Bearer ${ACCESS}`]);
  assert.equal(looker.state.refreshes, 0);
});

Deno.test("TokenSession.fetch() accepts an absolute URL on the API origin and keeps caller headers", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const response = await session(looker.server, store).fetch(
    new URL("/api/4.0/user", looker.base),
    {
      headers: {
        authorization: "Bearer caller-value",
        accept: "application/json",
      },
    },
  );
  await response.body?.cancel();
  assert.deepEqual(looker.state.apiCalls, [`Bearer ${ACCESS}`]);
});

Deno.test("TokenSession.fetch() refreshes once after a 401 and retries once", async () => {
  await using looker = fakeLooker({ acceptInitial: false });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const response = await session(looker.server, store).fetch("/api/4.0/user");
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(looker.state.refreshes, 1);
  assert.equal(looker.state.apiCalls.length, 2);
  assert.equal(looker.state.apiCalls[0], `Bearer ${ACCESS}`);
  assert.equal(
    looker.state.apiCalls[1],
    `Bearer ${(await store.load())?.accessToken}`,
  );
});

Deno.test("TokenSession.fetch() returns a second 401 instead of looping", async () => {
  await using looker = fakeLooker({ always401: true });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const response = await session(looker.server, store).fetch("/api/4.0/user");
  assert.equal(response.status, 401);
  await response.body?.cancel();
  assert.equal(looker.state.refreshes, 1);
  assert.equal(looker.state.apiCalls.length, 2);
});

Deno.test("TokenSession.fetch() after a 401 and a refused refresh is login_required", async () => {
  await using looker = fakeLooker({ acceptInitial: false, refuse: true });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  await assert.rejects(
    session(looker.server, store).fetch("/api/4.0/user"),
    fails("login_required"),
  );
  assert.equal(looker.state.apiCalls.length, 1);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.fetch() refuses another origin and never sends the token there", async () => {
  await using looker = fakeLooker();
  await using other = otherOrigin();
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const s = session(looker.server, store);
  for (
    const target of [
      `${other.base}/api/4.0/user`,
      `http://localhost:${new URL(looker.base).port}/api/4.0/user`,
      `https://127.0.0.1:${new URL(looker.base).port}/api/4.0/user`,
      `//${new URL(other.base).host}/api/4.0/user`,
    ]
  ) {
    await assert.rejects(s.fetch(target), fails("invalid_argument"), target);
  }
  const seen = other.authorizations();
  assert.deepEqual(seen, []);
  assert.deepEqual(looker.state.apiCalls, []);
  assert.equal(looker.state.refreshes, 0);
});

Deno.test("TokenSession.fetch() does not carry the token across a redirect to another origin", async () => {
  await using other = otherOrigin();
  await using looker = fakeLooker({ redirectTo: `${other.base}/collect` });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const response = await session(looker.server, store).fetch("/api/4.0/moved");
  await response.body?.cancel();
  const seen = other.authorizations();
  assert.equal(seen.length, 1);
  assert.equal(seen[0], null);
});

Deno.test("TokenSession.fetch() uses an explicit apiUrl for a generic server", async () => {
  await using looker = fakeLooker();
  const generic = oauthServer({
    authorizationEndpoint: `${looker.base}/authorize`,
    tokenEndpoint: `${looker.base}/api/token`,
  });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const s = session(generic, store, { apiUrl: looker.base });
  const response = await s.fetch("/api/4.0/user");
  await response.body?.cancel();
  assert.deepEqual(looker.state.apiCalls, [`Bearer ${ACCESS}`]);
  await assert.rejects(
    s.fetch("https://api.example.com/x"),
    fails("invalid_argument"),
  );
});

Deno.test("TokenSession refuses an empty client id or a malformed apiUrl", () => {
  const server = lookerServer({ lookerUrl: "https://example.looker.com" });
  const store = new MemoryTokenStore();
  assert.throws(
    () => new TokenSession({ server, clientId: "", store }),
    fails("invalid_argument"),
  );
  assert.throws(
    () =>
      new TokenSession({
        server,
        clientId: CLIENT_ID,
        store,
        apiUrl: "not a url",
      }),
    fails("invalid_argument"),
  );
});

// signOut()

Deno.test("TokenSession.signOut() logs out of Looker and clears the store", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(10 * 60_000));
  assert.equal(await session(looker.server, store).signOut(), true);
  assert.deepEqual(looker.state.logouts, [`Bearer ${ACCESS}`]);
  assert.equal(await store.load(), undefined);
  assert.equal(looker.state.refreshes, 0);
});

Deno.test("TokenSession.signOut() refreshes an expired Looker token before logging out", async () => {
  await using looker = fakeLooker();
  const store = new MemoryTokenStore(initial(-1));
  assert.equal(await session(looker.server, store).signOut(), true);
  assert.equal(looker.state.refreshes, 1);
  assert.equal(looker.state.logouts.length, 1);
  assert.notEqual(looker.state.logouts[0], `Bearer ${ACCESS}`);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() still clears the store when the grant has already ended", async () => {
  await using looker = fakeLooker({ refuse: true });
  const store = new MemoryTokenStore(initial(-1));
  assert.equal(await session(looker.server, store).signOut(), false);
  assert.equal(looker.state.logouts.length, 0);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() without tokens returns false", async () => {
  await using looker = fakeLooker();
  assert.equal(
    await session(looker.server, new MemoryTokenStore()).signOut(),
    false,
  );
  assert.equal(looker.state.logouts.length, 0);
});

Deno.test("TokenSession.signOut() on a server without revocation forgets the tokens", async () => {
  const generic = oauthServer({
    authorizationEndpoint: "https://id.example.com/authorize",
    tokenEndpoint: "https://id.example.com/token",
  });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  assert.equal(await session(generic, store).signOut(), false);
  assert.equal(await store.load(), undefined);
});
