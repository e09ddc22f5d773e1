import assert from "node:assert/strict";
import {
  type AuthServer,
  exchangeCode,
  lookerServer,
  MemoryTokenStore,
  oauthServer,
  parseCallback,
  startAuthorization,
  TokenSession,
  type TokenSessionOptions,
  type TokenSet,
  type TokenStore,
} from "../../src/core/mod.ts";
import {
  type LookerEmulator,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
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

interface LookerOptions {
  /** Refuse every refresh: the grant is revoked before the test starts. */
  refuse?: boolean;
  /** The API accepts the initial access token. Default true. */
  acceptInitial?: boolean;
  /** Every access token, refreshed ones too, is expired when it is used. */
  always401?: boolean;
  /** Runs when a refresh has been decided, before it is answered. */
  beforeRefreshAnswer?: () => unknown;
}

/** The Looker emulator with a person signed in to the test app. */
interface SignedInLooker extends AsyncDisposable {
  readonly emulator: LookerEmulator;
  readonly server: AuthServer;
  /** The API host, `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** The tokens of the sign-in. */
  readonly access: string;
  readonly refresh: string;
  /** Asserts an `OAuthError` with `code` that shows none of the tokens. */
  readonly fails: ReturnType<typeof failsHiding>;
  /** Records what the session sends to the API host. */
  readonly fetch: typeof globalThis.fetch;
  /** `authorization` of every `GET /api/4.0/user` the session sent. */
  readonly apiCalls: (string | null)[];
  /** `authorization` of every `DELETE /api/4.0/logout` the session sent. */
  readonly logouts: (string | null)[];
  /** The refresh answers that issued tokens, oldest first. */
  readonly refreshed: { access_token: string; refresh_token?: string }[];
  /** The sign-in's tokens as a store holds them, expiring in `ms`. */
  initial(ms: number): TokenSet;
  /** Whether the API host accepts `token` now. */
  accepts(token: string): Promise<boolean>;
}

/**
 * Starts the Looker emulator (refresh tokens rotate; reusing a rotated one
 * revokes the grant) and signs the person in to the test app, with the
 * emulator's hooks set for `options`.
 */
async function signedInLooker(
  options: LookerOptions = {},
): Promise<SignedInLooker> {
  const emulator = await startLookerEmulator({
    autoApprove: true,
    apps: [{
      client_guid: CLIENT_ID,
      redirect_uri: REDIRECT,
      display_name: "looker-oauth tests",
      description: "Runs the TokenSession tests.",
      enabled: true,
    }],
  });
  try {
    const server = lookerServer({
      lookerUrl: emulator.lookerUrl,
      apiUrl: emulator.apiUrl,
    });
    const pending = await startAuthorization(server, {
      clientId: CLIENT_ID,
      redirectUri: REDIRECT,
    });
    const redirected = await fetch(pending.url, { redirect: "manual" });
    await redirected.body?.cancel();
    const callback = new URL(redirected.headers.get("location")!);
    const tokens = await exchangeCode(server, {
      clientId: CLIENT_ID,
      redirectUri: REDIRECT,
      code: parseCallback(server, callback, { state: pending.state }),
      codeVerifier: pending.codeVerifier,
    });
    const access = tokens.accessToken;
    const refresh = tokens.refreshToken!;
    const accepts = async (token: string) => {
      const response = await fetch(`${emulator.apiUrl}/api/4.0/user`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await response.body?.cancel();
      return response.ok;
    };
    if (options.refuse) {
      const logout = await fetch(`${emulator.apiUrl}/api/4.0/logout`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${access}` },
      });
      assert.equal(logout.status, 204);
    }
    if (options.acceptInitial === false || options.always401) {
      emulator.expireAccessTokens();
    }
    const refreshed: SignedInLooker["refreshed"] = [];
    emulator.tokenResponseFilter = async (response, grantType) => {
      if (grantType !== "refresh_token") return response;
      if (response.ok) refreshed.push(await response.clone().json());
      if (options.always401) emulator.expireAccessTokens();
      await options.beforeRefreshAnswer?.();
      return response;
    };
    const apiCalls: (string | null)[] = [];
    const logouts: (string | null)[] = [];
    const recording: typeof globalThis.fetch = (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      if (url.origin === emulator.apiUrl) {
        const auth = request.headers.get("authorization");
        if (url.pathname === "/api/4.0/user") apiCalls.push(auth);
        if (url.pathname === "/api/4.0/logout") logouts.push(auth);
      }
      return fetch(request);
    };
    return {
      emulator,
      server,
      base: emulator.apiUrl,
      access,
      refresh,
      fails: failsHiding([access, refresh]),
      fetch: recording,
      apiCalls,
      logouts,
      refreshed,
      initial: (ms) => ({
        accessToken: access,
        tokenType: "bearer",
        expiresAt: NOW + ms,
        refreshToken: refresh,
      }),
      accepts,
      [Symbol.asyncDispose]: () => emulator.close(),
    };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

/** A session of the test app on `looker`, sending through its recorder. */
function session(
  looker: SignedInLooker,
  store: TokenStore,
  extra: Partial<TokenSessionOptions> = {},
): TokenSession {
  return new TokenSession({
    server: looker.server,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    store,
    now: () => NOW,
    fetch: looker.fetch,
    ...extra,
  });
}

/** A session of the test app on a server that is not the emulator. */
function plainSession(
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
 * A signed-in Looker whose refreshes wait for `release()`; `arrived` settles
 * when the first refresh request has reached it.
 */
async function gatedLooker(): Promise<
  SignedInLooker & { arrived: Promise<void>; release: () => void }
> {
  const arrived = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const looker = await signedInLooker({
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
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  assert.equal(await session(looker, store).getAccessToken(), looker.access);
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("TokenSession.getAccessToken() refreshes when fewer than 60 s remain", async () => {
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(59_000));
  const token = await session(looker, store).getAccessToken();
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.notEqual(token, looker.access);
  assert.ok(await looker.accepts(token));
  const saved = await store.load();
  assert.equal(saved?.accessToken, token);
  assert.equal(saved?.refreshToken, looker.refreshed.at(-1)?.refresh_token);
  assert.equal(saved?.expiresAt, NOW + 3600_000);
});

Deno.test("TokenSession.getAccessToken() refreshes an expired token", async () => {
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(-3600_000));
  const token = await session(looker, store).getAccessToken();
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.notEqual(token, looker.access);
});

Deno.test("TokenSession.getAccessToken() honours a configured refresh margin", async () => {
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(30_000));
  const s = session(looker, store, { refreshMargin: 10_000 });
  assert.equal(await s.getAccessToken(), looker.access);
  assert.equal(looker.emulator.stats.refreshes, 0);
  const eager = session(looker, store, { refreshMargin: 120_000 });
  assert.notEqual(await eager.getAccessToken(), looker.access);
  assert.equal(looker.emulator.stats.refreshes, 1);
});

Deno.test("TokenSession.getAccessToken() without tokens is login_required", async () => {
  await using looker = await signedInLooker();
  await assert.rejects(
    session(looker, new MemoryTokenStore()).getAccessToken(),
    looker.fails("login_required"),
  );
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("TokenSession.getAccessToken() on an expired token without a refresh token is login_required", async () => {
  await using looker = await signedInLooker();
  const { refreshToken: _, ...noRefresh } = looker.initial(-1);
  await assert.rejects(
    session(looker, new MemoryTokenStore(noRefresh)).getAccessToken(),
    looker.fails("login_required"),
  );
  assert.equal(looker.emulator.stats.refreshes, 0);
});

// single flight

Deno.test("TokenSession.getAccessToken() called 10 times at once on an expired token refreshes once", async () => {
  await using looker = await gatedLooker();
  const store = new MemoryTokenStore(looker.initial(-1));
  const s = session(looker, store);
  const all = Promise.all(
    Array.from({ length: 10 }, () => s.getAccessToken()),
  );
  await looker.arrived; // every caller is waiting on the one refresh
  looker.release();
  const tokens = await all;
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(new Set(tokens).size, 1);
  assert.notEqual(tokens[0], looker.access);
  assert.equal((await store.load())?.accessToken, tokens[0]);
});

Deno.test("TokenSession.getAccessToken() shares one refresh in-process even over a store without a lock", async () => {
  await using looker = await gatedLooker();
  const memory = new MemoryTokenStore(looker.initial(-1));
  const unlocked: TokenStore = {
    load: () => memory.load(),
    save: (tokens) => memory.save(tokens),
    clear: () => memory.clear(),
  };
  const s = session(looker, unlocked);
  const all = Promise.all(
    Array.from({ length: 10 }, () => s.getAccessToken()),
  );
  await looker.arrived;
  looker.release();
  const tokens = await all;
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(new Set(tokens).size, 1);
});

Deno.test("TokenSession: 10 sessions sharing one MemoryTokenStore refresh once", async () => {
  await using looker = await gatedLooker();
  const store = new MemoryTokenStore(looker.initial(-1));
  const sessions = Array.from(
    { length: 10 },
    () => session(looker, store),
  );
  const all = Promise.all(sessions.map((s) => s.getAccessToken()));
  await looker.arrived;
  looker.release();
  const tokens = await all;
  // The server rotates refresh tokens and ends the grant on reuse: a second
  // refresh would have logged everyone out.
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(new Set(tokens).size, 1);
  assert.ok(await looker.accepts(tokens[0]!));
});

Deno.test("TokenSession: a session sees tokens another one refreshed and does not refresh again", async () => {
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(-1));
  const first = await session(looker, store).getAccessToken();
  const second = await session(looker, store).getAccessToken();
  assert.equal(first, second);
  assert.equal(looker.emulator.stats.refreshes, 1);
});

// refused refresh

Deno.test("TokenSession: a refused refresh is login_required and clears the store", async () => {
  await using looker = await signedInLooker({ refuse: true });
  const store = new MemoryTokenStore(looker.initial(-1));
  await assert.rejects(
    session(looker, store).getAccessToken(),
    looker.fails("login_required"),
  );
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession: a refused refresh uses the tokens another process saved meanwhile", async () => {
  const store = new MemoryTokenStore();
  const newer: TokenSet = {
    accessToken: "AccessToken-from-another-process",
    tokenType: "bearer",
    expiresAt: NOW + 3600_000,
    refreshToken: "RefreshToken-from-another-process",
  };
  await using looker = await signedInLooker({
    refuse: true,
    // Another process refreshes (and saves) while our request is in flight.
    beforeRefreshAnswer: () => store.save(newer),
  });
  await store.save(looker.initial(-1));
  assert.equal(
    await session(looker, store).getAccessToken(),
    newer.accessToken,
  );
  assert.deepEqual(await store.load(), newer);
});

Deno.test("TokenSession: concurrent callers all get login_required from one refused refresh", async () => {
  await using looker = await signedInLooker({ refuse: true });
  const store = new MemoryTokenStore(looker.initial(-1));
  const s = session(looker, store);
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => s.getAccessToken()),
  );
  for (const result of results) {
    assert.equal(result.status, "rejected");
    looker.fails("login_required")((result as PromiseRejectedResult).reason);
  }
  assert.equal(looker.emulator.stats.refreshes, 1);
});

// fetch()

Deno.test("TokenSession.fetch() sends the bearer token to a path under the API URL", async () => {
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  const response = await session(looker, store).fetch("/api/4.0/user");
  assert.equal(response.status, 200);
  assert.equal((await response.json()).id, "1");
  assert.deepEqual(looker.apiCalls, [`Bearer ${looker.access}`]);
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("TokenSession.fetch() accepts an absolute URL on the API origin and keeps caller headers", async () => {
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  const response = await session(looker, store).fetch(
    new URL("/api/4.0/user", looker.base),
    {
      headers: {
        authorization: "Bearer caller-value",
        accept: "application/json",
      },
    },
  );
  await response.body?.cancel();
  assert.deepEqual(looker.apiCalls, [`Bearer ${looker.access}`]);
});

Deno.test("TokenSession.fetch() refreshes once after a 401 and retries once", async () => {
  await using looker = await signedInLooker({ acceptInitial: false });
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  const response = await session(looker, store).fetch("/api/4.0/user");
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(looker.apiCalls.length, 2);
  assert.equal(looker.apiCalls[0], `Bearer ${looker.access}`);
  assert.equal(
    looker.apiCalls[1],
    `Bearer ${(await store.load())?.accessToken}`,
  );
});

Deno.test("TokenSession.fetch() returns a second 401 instead of looping", async () => {
  await using looker = await signedInLooker({ always401: true });
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  const response = await session(looker, store).fetch("/api/4.0/user");
  assert.equal(response.status, 401);
  await response.body?.cancel();
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(looker.apiCalls.length, 2);
});

Deno.test("TokenSession.fetch() after a 401 and a refused refresh is login_required", async () => {
  await using looker = await signedInLooker({
    acceptInitial: false,
    refuse: true,
  });
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  await assert.rejects(
    session(looker, store).fetch("/api/4.0/user"),
    looker.fails("login_required"),
  );
  assert.equal(looker.apiCalls.length, 1);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.fetch() refuses another origin and never sends the token there", async () => {
  await using looker = await signedInLooker();
  await using other = otherOrigin();
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  const s = session(looker, store);
  for (
    const target of [
      `${other.base}/api/4.0/user`,
      `http://localhost:${new URL(looker.base).port}/api/4.0/user`,
      `https://127.0.0.1:${new URL(looker.base).port}/api/4.0/user`,
      `//${new URL(other.base).host}/api/4.0/user`,
    ]
  ) {
    await assert.rejects(
      s.fetch(target),
      looker.fails("invalid_argument"),
      target,
    );
  }
  const seen = other.authorizations();
  assert.deepEqual(seen, []);
  assert.deepEqual(looker.apiCalls, []);
  assert.equal(looker.emulator.stats.apiCalls, 0);
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("TokenSession.fetch() does not carry the token across a redirect to another origin", async () => {
  await using other = otherOrigin();
  // An API answering with a redirect elsewhere (Looker's never does).
  await using api = serveRecording(() =>
    new Response(null, {
      status: 302,
      headers: { location: `${other.base}/collect` },
    })
  );
  const generic = oauthServer({
    authorizationEndpoint: `${api.base}/authorize`,
    tokenEndpoint: `${api.base}/token`,
  });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const s = plainSession(generic, store, { apiUrl: api.base });
  const response = await s.fetch("/api/4.0/moved");
  await response.body?.cancel();
  assert.equal(
    api.requests[0]?.headers.get("authorization"),
    `Bearer ${ACCESS}`,
  );
  const seen = other.authorizations();
  assert.equal(seen.length, 1);
  assert.equal(seen[0], null);
});

Deno.test("TokenSession.fetch() uses an explicit apiUrl for a generic server", async () => {
  await using looker = await signedInLooker();
  const generic = oauthServer({
    authorizationEndpoint: `${looker.base}/authorize`,
    tokenEndpoint: `${looker.base}/api/token`,
  });
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  const s = session(looker, store, { server: generic, apiUrl: looker.base });
  const response = await s.fetch("/api/4.0/user");
  await response.body?.cancel();
  assert.deepEqual(looker.apiCalls, [`Bearer ${looker.access}`]);
  await assert.rejects(
    s.fetch("https://api.example.com/x"),
    looker.fails("invalid_argument"),
  );
});

Deno.test("TokenSession.fetch() never sends the token over plain http off loopback, unless the server allows insecure http", async () => {
  await using looker = await signedInLooker();
  const sent: string[] = [];
  const recording: typeof globalThis.fetch = (input, init) => {
    const request = new Request(input, init);
    sent.push(`${request.url} ${request.headers.get("authorization")}`);
    return Promise.resolve(new Response("reached"));
  };
  const endpoints = {
    authorizationEndpoint: `${looker.base}/authorize`,
    tokenEndpoint: `${looker.base}/api/token`,
  };
  const strict = session(
    looker,
    new MemoryTokenStore(looker.initial(10 * 60_000)),
    { server: oauthServer(endpoints), fetch: recording },
  );
  for (const url of ["http://192.0.2.1/x", "ftp://192.0.2.1/x"]) {
    await assert.rejects(strict.fetch(url), looker.fails("insecure_http"));
  }
  assert.deepEqual(sent, [], "nothing was sent");
  // Loopback over http stays allowed, as for the endpoints themselves.
  await (await strict.fetch(`${looker.base}/api/4.0/user`)).body?.cancel();
  assert.equal(sent.length, 1);
  const insecure = session(
    looker,
    new MemoryTokenStore(looker.initial(10 * 60_000)),
    {
      server: oauthServer({ ...endpoints, allowInsecureHttp: true }),
      fetch: recording,
    },
  );
  await (await insecure.fetch("http://192.0.2.1/x")).body?.cancel();
  assert.deepEqual(sent.slice(1), [
    `http://192.0.2.1/x Bearer ${looker.access}`,
  ]);
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
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  assert.deepEqual(await session(looker, store).signOut(), {
    revoked: true,
    outcome: "revoked",
  });
  assert.deepEqual(looker.logouts, [`Bearer ${looker.access}`]);
  assert.equal(await store.load(), undefined);
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("TokenSession.signOut() refreshes an expired Looker token before logging out", async () => {
  await using looker = await signedInLooker();
  const store = new MemoryTokenStore(looker.initial(-1));
  assert.equal((await session(looker, store).signOut()).revoked, true);
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(looker.logouts.length, 1);
  assert.notEqual(looker.logouts[0], `Bearer ${looker.access}`);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() still clears the store when the grant has already ended", async () => {
  await using looker = await signedInLooker({ refuse: true });
  const store = new MemoryTokenStore(looker.initial(-1));
  assert.deepEqual(await session(looker, store).signOut(), {
    revoked: false,
    outcome: "already_ended",
  });
  assert.equal(looker.logouts.length, 0);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() when Looker refuses even a refreshed token: refused, tokens forgotten", async () => {
  await using looker = await signedInLooker({ always401: true });
  const store = new MemoryTokenStore(looker.initial(10 * 60_000));
  const result = await session(looker, store).signOut();
  assert.equal(result.outcome, "refused");
  assert.equal(result.revoked, false);
  assert.ok(looker.fails("invalid_grant", 401)(result.error));
  assert.equal(looker.logouts.length, 2, "once more with a fresh token");
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() keeps the tokens when Looker's logout answers 503 or 429", async () => {
  for (const status of [503, 429]) {
    await using looker = await signedInLooker();
    const initial = looker.initial(10 * 60_000);
    const store = new MemoryTokenStore(initial);
    const busy: typeof fetch = (input, init) => {
      const request = new Request(input, init);
      return new URL(request.url).pathname === "/api/4.0/logout"
        ? Promise.resolve(new Response("busy", { status }))
        : looker.fetch(request);
    };
    await assert.rejects(
      session(looker, store, { fetch: busy }).signOut(),
      looker.fails("server_error", status),
    );
    assert.deepEqual(await store.load(), initial);
    assert.equal(looker.emulator.stats.logouts, 0);
  }
});

Deno.test("TokenSession.signOut() without tokens reports not_signed_in", async () => {
  await using looker = await signedInLooker();
  assert.deepEqual(
    await session(looker, new MemoryTokenStore()).signOut(),
    { revoked: false, outcome: "not_signed_in" },
  );
  assert.equal(looker.logouts.length, 0);
});

Deno.test("TokenSession.signOut() on a server without revocation forgets the tokens", async () => {
  const generic = oauthServer({
    authorizationEndpoint: "https://id.example.com/authorize",
    tokenEndpoint: "https://id.example.com/token",
  });
  const store = new MemoryTokenStore(initial(10 * 60_000));
  const s = plainSession(generic, store);
  assert.deepEqual(await s.signOut(), {
    revoked: false,
    outcome: "not_offered",
  });
  assert.equal(await store.load(), undefined);
});
