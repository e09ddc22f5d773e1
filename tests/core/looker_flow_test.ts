// The core against the Looker emulator: the whole code flow with the
// scripted browser playing the person, refresh with and without rotation,
// logout, the pitfalls (declined consent, token endpoint on the UI host,
// Basic authentication), and TokenSession's single-flight refresh.
import assert from "node:assert/strict";
import {
  type AuthServer,
  exchangeCode,
  lookerServer,
  MemoryTokenStore,
  type OAuthError,
  parseCallback,
  type PendingAuthorization,
  refreshTokens,
  revokeTokens,
  startAuthorization,
  TokenSession,
  type TokenSet,
} from "../../src/core/mod.ts";
import { browse, type Decision } from "../../src/emulator/user_agent.ts";
import {
  type LookerEmulator,
  type LookerEmulatorOptions,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
import { oauthErrorWith } from "../_errors.ts";
import {
  browseToCallback,
  type RedirectTarget,
  startRedirectTarget,
} from "../_redirect_target.ts";

const CLIENT_ID = "looker-oauth-tests";

/** An emulator with the test app registered, and a redirect receiver. */
interface Setup extends AsyncDisposable {
  readonly looker: LookerEmulator;
  readonly server: AuthServer;
  readonly receiver: RedirectTarget;
}

async function setUp(options: LookerEmulatorOptions = {}): Promise<Setup> {
  const receiver = startRedirectTarget();
  let looker: LookerEmulator;
  try {
    looker = await startLookerEmulator(options);
  } catch (err) {
    await receiver[Symbol.asyncDispose]();
    throw err;
  }
  looker.registerApp({
    client_guid: CLIENT_ID,
    redirect_uri: receiver.redirectUri,
    display_name: "looker-oauth tests",
    description: "Signs in to run the looker-oauth test suite.",
    enabled: true,
  });
  return {
    looker,
    server: lookerServer({
      lookerUrl: looker.lookerUrl,
      apiUrl: looker.apiUrl,
    }),
    receiver,
    [Symbol.asyncDispose]: async () => {
      await looker.close();
      await receiver[Symbol.asyncDispose]();
    },
  };
}

/** Sends the scripted person through sign-in; returns the callback URL. */
async function authorize(
  setup: Setup,
  decision: Decision = "approve",
): Promise<{ pending: PendingAuthorization; callback: URL }> {
  const pending = await startAuthorization(setup.server, {
    clientId: CLIENT_ID,
    redirectUri: setup.receiver.redirectUri,
  });
  const callback = await browseToCallback(
    setup.receiver,
    pending.url,
    decision,
  );
  return { pending, callback };
}

/** The whole flow: sign in, check the callback, exchange the code. */
async function signIn(setup: Setup): Promise<TokenSet> {
  const { pending, callback } = await authorize(setup);
  const code = parseCallback(setup.server, callback, { state: pending.state });
  return await exchangeCode(setup.server, {
    clientId: CLIENT_ID,
    redirectUri: pending.redirectUri,
    code,
    codeVerifier: pending.codeVerifier,
  });
}

function refresh(setup: Setup, tokens: TokenSet): Promise<TokenSet> {
  return refreshTokens(setup.server, {
    clientId: CLIENT_ID,
    tokens,
    redirectUri: setup.receiver.redirectUri,
  });
}

async function me(setup: Setup, tokens: TokenSet): Promise<Response> {
  return await fetch(`${setup.looker.apiUrl}/api/4.0/user`, {
    headers: { authorization: `Bearer ${tokens.accessToken}` },
  });
}

function session(
  setup: Setup,
  store: MemoryTokenStore,
): TokenSession {
  return new TokenSession({
    server: setup.server,
    clientId: CLIENT_ID,
    redirectUri: setup.receiver.redirectUri,
    store,
  });
}

// ---------------------------------------------------------------- flow --

Deno.test("the code flow signs in through the pages and the token reads the user", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup);
  assert.equal(callback.origin + callback.pathname, pending.redirectUri);
  assert.ok(callback.search.startsWith("?&code="), callback.search);
  const code = parseCallback(setup.server, callback, { state: pending.state });
  const before = Date.now();
  const tokens = await exchangeCode(setup.server, {
    clientId: CLIENT_ID,
    redirectUri: pending.redirectUri,
    code,
    codeVerifier: pending.codeVerifier,
  });
  assert.equal(tokens.tokenType, "bearer");
  assert.equal(typeof tokens.refreshToken, "string");
  assert.ok(tokens.expiresAt >= before + 3600_000);
  const response = await me(setup, tokens);
  assert.equal(response.status, 200);
  const user = await response.json();
  assert.equal(user.email, "ada@example.com");
  assert.equal(setup.looker.stats.authorizations, 1);
  assert.equal(setup.looker.stats.codeExchanges, 1);
});

Deno.test("exchangeCode() rejects a reused code", async () => {
  await using setup = await setUp({ autoApprove: true });
  const { pending, callback } = await authorize(setup);
  const exchange = {
    clientId: CLIENT_ID,
    redirectUri: pending.redirectUri,
    code: parseCallback(setup.server, callback, { state: pending.state }),
    codeVerifier: pending.codeVerifier,
  };
  const tokens = await exchangeCode(setup.server, exchange);
  await assert.rejects(
    exchangeCode(setup.server, exchange),
    oauthErrorWith("invalid_grant"),
  );
  // The reuse revoked what the code gave.
  const response = await me(setup, tokens);
  await response.body?.cancel();
  assert.equal(response.status, 401);
});

Deno.test("exchangeCode() rejects a PKCE verifier that does not match", async () => {
  await using setup = await setUp({ autoApprove: true });
  const { pending, callback } = await authorize(setup);
  const other = await startAuthorization(setup.server, {
    clientId: CLIENT_ID,
    redirectUri: setup.receiver.redirectUri,
  });
  await assert.rejects(
    exchangeCode(setup.server, {
      clientId: CLIENT_ID,
      redirectUri: pending.redirectUri,
      code: parseCallback(setup.server, callback, { state: pending.state }),
      codeVerifier: other.codeVerifier,
    }),
    oauthErrorWith("invalid_grant"),
  );
});

Deno.test("exchangeCode() reports a different redirect URI as redirect_uri_mismatch", async () => {
  await using setup = await setUp({ autoApprove: true });
  const { pending, callback } = await authorize(setup);
  await assert.rejects(
    exchangeCode(setup.server, {
      clientId: CLIENT_ID,
      redirectUri: `${pending.redirectUri}/`,
      code: parseCallback(setup.server, callback, { state: pending.state }),
      codeVerifier: pending.codeVerifier,
    }),
    oauthErrorWith("redirect_uri_mismatch"),
  );
});

Deno.test("exchangeCode() reports an unknown client as invalid_client", async () => {
  await using setup = await setUp({ autoApprove: true });
  const { pending, callback } = await authorize(setup);
  await assert.rejects(
    exchangeCode(setup.server, {
      clientId: "nobody",
      redirectUri: pending.redirectUri,
      code: parseCallback(setup.server, callback, { state: pending.state }),
      codeVerifier: pending.codeVerifier,
    }),
    oauthErrorWith("invalid_client"),
  );
});

Deno.test("exchangeCode() reports the UI host used as API host as wrong_host", async () => {
  await using setup = await setUp({ autoApprove: true });
  const { pending, callback } = await authorize(setup);
  const uiOnly = lookerServer({ lookerUrl: setup.looker.lookerUrl });
  await assert.rejects(
    exchangeCode(uiOnly, {
      clientId: CLIENT_ID,
      redirectUri: pending.redirectUri,
      code: parseCallback(uiOnly, callback, { state: pending.state }),
      codeVerifier: pending.codeVerifier,
    }),
    oauthErrorWith("wrong_host"),
  );
  assert.equal(setup.looker.stats.tokenRequests, 0);
});

Deno.test("exchangeCode() reports Looker's Failed Basic Authentication as basic_auth_rejected", async () => {
  await using setup = await setUp({ autoApprove: true });
  const { pending, callback } = await authorize(setup);
  // A proxy (or an older client) adding a Basic header.
  const withBasic: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Basic ${btoa(`${CLIENT_ID}:`)}`);
    return fetch(input, { ...init, headers });
  };
  await assert.rejects(
    exchangeCode(setup.server, {
      clientId: CLIENT_ID,
      redirectUri: pending.redirectUri,
      code: parseCallback(setup.server, callback, { state: pending.state }),
      codeVerifier: pending.codeVerifier,
      fetch: withBasic,
    }),
    oauthErrorWith("basic_auth_rejected"),
  );
});

Deno.test("parseCallback() reports a declined consent as access_denied", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup, "deny");
  assert.throws(
    () => parseCallback(setup.server, callback, { state: pending.state }),
    oauthErrorWith("access_denied"),
  );
  assert.equal(setup.looker.stats.authorizations, 0);
});

Deno.test("parseCallback() rejects the callback of another sign-in as state_mismatch", async () => {
  await using setup = await setUp({ autoApprove: true });
  const { callback } = await authorize(setup);
  const { pending } = await authorize(setup);
  assert.throws(
    () => parseCallback(setup.server, callback, { state: pending.state }),
    oauthErrorWith("state_mismatch"),
  );
});

// ------------------------------------------------------------- refresh --

Deno.test("refreshTokens() replaces the refresh token when Looker rotates it", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  const next = await refresh(setup, tokens);
  assert.notEqual(next.accessToken, tokens.accessToken);
  assert.ok(next.refreshToken);
  assert.notEqual(next.refreshToken, tokens.refreshToken);
  const response = await me(setup, next);
  await response.body?.cancel();
  assert.equal(response.status, 200);
  const after = await refresh(setup, next);
  assert.notEqual(after.refreshToken, next.refreshToken);
  assert.equal(setup.looker.stats.refreshReuses, 0);
});

Deno.test("refreshTokens() keeps the refresh token when Looker does not rotate it", async () => {
  await using setup = await setUp({
    autoApprove: true,
    rotateRefreshTokens: false,
  });
  const tokens = await signIn(setup);
  const next = await refresh(setup, tokens);
  assert.notEqual(next.accessToken, tokens.accessToken);
  assert.equal(next.refreshToken, tokens.refreshToken);
  const again = await refresh(setup, next);
  assert.equal(again.refreshToken, tokens.refreshToken);
  assert.equal(setup.looker.stats.refreshes, 2);
});

Deno.test("refreshTokens() rejects a rotated refresh token as invalid_grant", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  const next = await refresh(setup, tokens);
  await assert.rejects(refresh(setup, tokens), oauthErrorWith("invalid_grant"));
  assert.equal(setup.looker.stats.refreshReuses, 1);
  // The reuse revoked the grant: the newest refresh token is dead too.
  await assert.rejects(refresh(setup, next), oauthErrorWith("invalid_grant"));
});

Deno.test("refreshTokens() reports a lost rotation answer, and the retry as invalid_grant", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  setup.looker.tokenResponseFilter = async (response, grantType) => {
    if (grantType !== "refresh_token") return response;
    await response.body?.cancel();
    return new Response("upstream timed out", { status: 504 });
  };
  await assert.rejects(refresh(setup, tokens), oauthErrorWith("server_error"));
  setup.looker.tokenResponseFilter = undefined;
  await assert.rejects(refresh(setup, tokens), oauthErrorWith("invalid_grant"));
});

// -------------------------------------------------------------- logout --

Deno.test("revokeTokens() logs out: the access token gets 401 and the refresh token invalid_grant", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  assert.equal(
    await revokeTokens(setup.server, { clientId: CLIENT_ID, tokens }),
    true,
  );
  assert.equal(setup.looker.stats.logouts, 1);
  const response = await me(setup, tokens);
  await response.body?.cancel();
  assert.equal(response.status, 401);
  await assert.rejects(refresh(setup, tokens), oauthErrorWith("invalid_grant"));
  await assert.rejects(
    revokeTokens(setup.server, { clientId: CLIENT_ID, tokens }),
    oauthErrorWith("invalid_grant"),
  );
});

// --------------------------------------------------------- TokenSession --

Deno.test("TokenSession shares one refresh among 10 concurrent getAccessToken() calls", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  const store = new MemoryTokenStore({ ...tokens, expiresAt: 0 });
  const tokenSession = session(setup, store);
  const got = await Promise.all(
    Array.from({ length: 10 }, () => tokenSession.getAccessToken()),
  );
  assert.equal(setup.looker.stats.refreshes, 1);
  assert.equal(setup.looker.stats.refreshReuses, 0);
  assert.equal(new Set(got).size, 1);
  assert.notEqual(got[0], tokens.accessToken);
  const stored = await store.load();
  assert.equal(stored?.accessToken, got[0]);
  assert.notEqual(stored?.refreshToken, tokens.refreshToken);
});

Deno.test("TokenSession.fetch() refreshes once after a 401 and retries", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  const store = new MemoryTokenStore(tokens);
  const tokenSession = session(setup, store);
  setup.looker.expireAccessTokens();
  const response = await tokenSession.fetch("/api/4.0/user");
  assert.equal(response.status, 200);
  assert.equal((await response.json()).id, "1");
  assert.equal(setup.looker.stats.refreshes, 1);
  assert.notEqual((await store.load())?.accessToken, tokens.accessToken);
});

Deno.test("TokenSession turns a refused refresh into login_required and forgets the tokens", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  await revokeTokens(setup.server, { clientId: CLIENT_ID, tokens });
  const store = new MemoryTokenStore({ ...tokens, expiresAt: 0 });
  await assert.rejects(
    session(setup, store).getAccessToken(),
    oauthErrorWith("login_required"),
  );
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() logs out on Looker and clears the store", async () => {
  await using setup = await setUp({ autoApprove: true });
  const tokens = await signIn(setup);
  const store = new MemoryTokenStore(tokens);
  assert.equal((await session(setup, store).signOut()).revoked, true);
  assert.equal(setup.looker.stats.logouts, 1);
  assert.equal(await store.load(), undefined);
  await assert.rejects(refresh(setup, tokens), oauthErrorWith("invalid_grant"));
});

Deno.test("parseCallback() of the emulator's invalid_request for a missing PKCE challenge hints at PKCE, not at the redirect URI", async () => {
  await using setup = await setUp();
  const pending = await startAuthorization(setup.server, {
    clientId: CLIENT_ID,
    redirectUri: setup.receiver.redirectUri,
  });
  const url = new URL(pending.url);
  url.searchParams.delete("code_challenge");
  const page = await browse(url);
  assert.equal(page.status, 200);
  const callback = setup.receiver.callbacks.at(-1);
  assert.ok(callback, "the emulator redirected back with an error");
  let caught: unknown;
  try {
    parseCallback(setup.server, callback, { state: pending.state });
  } catch (err) {
    caught = err;
  }
  assert.ok(oauthErrorWith("authorization_error")(caught));
  const err = caught as OAuthError;
  assert.equal(err.error, "invalid_request");
  assert.match(err.errorDescription ?? "", /code_challenge/);
  assert.match(err.hint ?? "", /PKCE/);
  assert.doesNotMatch(err.hint ?? "", /redirect/i);
});
