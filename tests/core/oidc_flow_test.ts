// The core against panva's certified oidc-provider, run in-process on
// 127.0.0.1: discovery, the code flow with PKCE, RFC 9207 `iss`, refresh
// rotation and reuse detection, revocation, and TokenSession.
import assert from "node:assert/strict";
import {
  type AuthServer,
  discover,
  exchangeCode,
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
import { oauthErrorWith } from "../_errors.ts";
import {
  type OidcProviderHandle,
  type OidcProviderOptions,
  startOidcProvider,
} from "../_oidc_provider.ts";
import {
  browseToCallback,
  type RedirectTarget,
  startRedirectTarget,
} from "../_redirect_target.ts";

/** A provider, its discovered metadata, and a redirect receiver. */
interface Setup extends AsyncDisposable {
  readonly op: OidcProviderHandle;
  readonly server: AuthServer;
  readonly receiver: RedirectTarget;
}

async function setUp(options: OidcProviderOptions = {}): Promise<Setup> {
  const op = await startOidcProvider(options);
  const receiver = startRedirectTarget();
  try {
    const server = await discover(op.issuer);
    return {
      op,
      server,
      receiver,
      [Symbol.asyncDispose]: async () => {
        await receiver[Symbol.asyncDispose]();
        await op.close();
      },
    };
  } catch (err) {
    await receiver[Symbol.asyncDispose]();
    await op.close();
    throw err;
  }
}

/** Sends the scripted person through sign-in; returns the callback URL. */
async function authorize(
  setup: Setup,
  decision: Decision = "approve",
): Promise<{ pending: PendingAuthorization; callback: URL }> {
  const pending = await startAuthorization(setup.server, {
    clientId: setup.op.clientId,
    redirectUri: setup.receiver.redirectUri,
    scope: "openid offline_access",
    extraParams: { prompt: "consent" },
  });
  const callback = await browseToCallback(
    setup.receiver,
    pending.url,
    decision,
  );
  assert.equal(callback.origin + callback.pathname, pending.redirectUri);
  return { pending, callback };
}

/** Checks the callback of `pending` and exchanges its code. */
async function finish(
  setup: Setup,
  pending: PendingAuthorization,
  callback: URL,
): Promise<TokenSet> {
  const code = parseCallback(setup.server, callback, { state: pending.state });
  return await exchangeCode(setup.server, {
    clientId: setup.op.clientId,
    redirectUri: pending.redirectUri,
    code,
    codeVerifier: pending.codeVerifier,
    ...(pending.nonce === undefined ? {} : { nonce: pending.nonce }),
  });
}

/** The full flow: sign in, check the callback, exchange the code. */
async function signIn(setup: Setup): Promise<TokenSet> {
  const { pending, callback } = await authorize(setup);
  return await finish(setup, pending, callback);
}

function refresh(setup: Setup, tokens: TokenSet): Promise<TokenSet> {
  return refreshTokens(setup.server, { clientId: setup.op.clientId, tokens });
}

function without(url: URL, name: string): URL {
  const copy = new URL(url);
  copy.searchParams.delete(name);
  return copy;
}

function withParam(url: URL, name: string, value: string): URL {
  const copy = new URL(url);
  copy.searchParams.set(name, value);
  return copy;
}

function jwtPayload(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, "=")));
}

Deno.test("discover() reads oidc-provider's metadata", async () => {
  await using op = await startOidcProvider();
  const server = await discover(op.issuer);
  const { metadata } = server;
  assert.equal(metadata.issuer, op.issuer);
  assert.equal(metadata.authorization_endpoint, `${op.issuer}/auth`);
  assert.equal(metadata.token_endpoint, `${op.issuer}/token`);
  assert.equal(metadata.revocation_endpoint, `${op.issuer}/token/revocation`);
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  assert.ok(metadata.code_challenge_methods_supported?.includes("S256"));
  assert.equal(server.looker, undefined);
  assert.equal(server.allowInsecureHttp, false);
});

Deno.test("discover() sees no revocation endpoint when oidc-provider offers none", async () => {
  await using op = await startOidcProvider({ revocation: false });
  const server = await discover(op.issuer);
  assert.equal(server.metadata.revocation_endpoint, undefined);
});

Deno.test("the code flow with PKCE signs in to oidc-provider", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup);
  assert.equal(callback.searchParams.get("iss"), setup.op.issuer);
  assert.equal(callback.searchParams.get("state"), pending.state);
  assert.equal(pending.url.searchParams.get("code_challenge_method"), "S256");

  const tokens = await finish(setup, pending, callback);
  assert.equal(tokens.tokenType, "bearer");
  assert.ok(tokens.accessToken.length > 0);
  assert.ok(tokens.refreshToken);
  assert.ok(tokens.expiresAt > Date.now());
  assert.deepEqual(tokens.scope?.split(" ").sort(), [
    "offline_access",
    "openid",
  ]);
  assert.ok(tokens.idToken, "an ID token is issued for scope openid");
  const claims = jwtPayload(tokens.idToken);
  assert.equal(claims.iss, setup.op.issuer);
  assert.equal(claims.aud, setup.op.clientId);
  assert.equal(setup.op.stats.tokenRequests, 1);
  assert.deepEqual(setup.op.stats.serverErrors, []);
});

Deno.test("the code flow signs in to oidc-provider that requires a nonce, and the ID token carries it", async () => {
  await using setup = await setUp({ requireNonce: true });
  const { pending, callback } = await authorize(setup);
  assert.ok(pending.nonce);
  const tokens = await finish(setup, pending, callback);
  assert.equal(jwtPayload(tokens.idToken!).nonce, pending.nonce);
  assert.deepEqual(setup.op.stats.serverErrors, []);
});

Deno.test("oidc-provider that requires a nonce refuses a request without one; the error names no wrong cause", async () => {
  await using setup = await setUp({ requireNonce: true });
  const pending = await startAuthorization(setup.server, {
    clientId: setup.op.clientId,
    redirectUri: setup.receiver.redirectUri,
    scope: "openid",
  });
  await browse(without(pending.url, "nonce"));
  const callback = setup.receiver.callbacks.at(-1);
  assert.ok(callback, "the provider redirected back with an error");
  assert.equal(callback.searchParams.get("code"), null);
  let caught: unknown;
  try {
    parseCallback(setup.server, callback, { state: pending.state });
  } catch (err) {
    caught = err;
  }
  assert.ok(oauthErrorWith("authorization_error")(caught));
  const err = caught as OAuthError;
  assert.equal(err.error, "invalid_request");
  assert.equal(err.errorDescription, "nonce required");
  assert.ok(!/redirect/i.test(err.hint ?? ""), err.hint);
  assert.match(err.hint ?? "", /nonce/);
});

Deno.test("exchangeCode() refuses an ID token whose nonce is not this sign-in's", async () => {
  await using setup = await setUp({ requireNonce: true });
  // The browser is sent with another nonce (a code obtained for another
  // sign-in, injected here): the provider puts that one in the ID token.
  const pending = await startAuthorization(setup.server, {
    clientId: setup.op.clientId,
    redirectUri: setup.receiver.redirectUri,
    scope: "openid",
  });
  const callback = await browseToCallback(
    setup.receiver,
    withParam(pending.url, "nonce", "another-sign-in-s-nonce"),
    "approve",
  );
  const code = parseCallback(setup.server, callback, { state: pending.state });
  await assert.rejects(
    exchangeCode(setup.server, {
      clientId: setup.op.clientId,
      redirectUri: pending.redirectUri,
      code,
      codeVerifier: pending.codeVerifier,
      nonce: pending.nonce!,
    }),
    oauthErrorWith("nonce_mismatch"),
  );
});

Deno.test("exchangeCode() without the nonce refuses an ID token that carries one", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup);
  const code = parseCallback(setup.server, callback, { state: pending.state });
  await assert.rejects(
    exchangeCode(setup.server, {
      clientId: setup.op.clientId,
      redirectUri: pending.redirectUri,
      code,
      codeVerifier: pending.codeVerifier,
    }),
    oauthErrorWith("nonce_mismatch"),
  );
});

Deno.test("exchangeCode() is refused a code that was already used", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup);
  const code = parseCallback(setup.server, callback, { state: pending.state });
  const exchange = {
    clientId: setup.op.clientId,
    redirectUri: pending.redirectUri,
    code,
    codeVerifier: pending.codeVerifier,
    nonce: pending.nonce!,
  };
  await exchangeCode(setup.server, exchange);
  await assert.rejects(
    exchangeCode(setup.server, exchange),
    oauthErrorWith("invalid_grant"),
  );
});

Deno.test("exchangeCode() is refused with the wrong PKCE verifier", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup);
  const code = parseCallback(setup.server, callback, { state: pending.state });
  const other = await startAuthorization(setup.server, {
    clientId: setup.op.clientId,
    redirectUri: setup.receiver.redirectUri,
  });
  await assert.rejects(
    exchangeCode(setup.server, {
      clientId: setup.op.clientId,
      redirectUri: pending.redirectUri,
      code,
      codeVerifier: other.codeVerifier,
    }),
    oauthErrorWith("invalid_grant"),
  );
});

Deno.test("parseCallback() refuses oidc-provider's callback without its iss", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup);
  const expected = { state: pending.state };
  assert.throws(
    () => parseCallback(setup.server, without(callback, "iss"), expected),
    oauthErrorWith("iss_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(
        setup.server,
        withParam(callback, "iss", "http://127.0.0.1:1"),
        expected,
      ),
    oauthErrorWith("iss_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(
        setup.server,
        withParam(callback, "iss", `${setup.op.issuer}/`),
        expected,
      ),
    oauthErrorWith("iss_mismatch"),
  );
  // The genuine callback is still good.
  assert.equal(
    parseCallback(setup.server, callback, expected),
    callback.searchParams.get("code"),
  );
});

Deno.test("parseCallback() checks state before iss, error or code", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup);
  const forged = { state: `${pending.state}x` };
  assert.throws(
    () => parseCallback(setup.server, callback, forged),
    oauthErrorWith("state_mismatch"),
  );
  assert.throws(
    () => parseCallback(setup.server, without(callback, "iss"), forged),
    oauthErrorWith("state_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(
        setup.server,
        withParam(without(callback, "code"), "error", "access_denied"),
        forged,
      ),
    oauthErrorWith("state_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(setup.server, without(callback, "state"), {
        state: pending.state,
      }),
    oauthErrorWith("state_mismatch"),
  );
  // Nothing was spent: the genuine callback still completes the sign-in.
  const tokens = await finish(setup, pending, callback);
  assert.equal(tokens.tokenType, "bearer");
});

Deno.test("parseCallback() reports access_denied when the person cancels", async () => {
  await using setup = await setUp();
  const { pending, callback } = await authorize(setup, "deny");
  assert.equal(callback.searchParams.get("error"), "access_denied");
  assert.equal(callback.searchParams.get("code"), null);
  assert.throws(
    () => parseCallback(setup.server, callback, { state: pending.state }),
    oauthErrorWith("access_denied"),
  );
  // A forged denial is a state mismatch, not a denial.
  assert.throws(
    () => parseCallback(setup.server, callback, { state: "other-state" }),
    oauthErrorWith("state_mismatch"),
  );
  assert.equal(setup.op.stats.tokenRequests, 0);
});

Deno.test("refreshTokens() takes oidc-provider's rotated refresh token", async () => {
  await using setup = await setUp();
  const first = await signIn(setup);
  const second = await refresh(setup, first);
  assert.equal(second.tokenType, "bearer");
  assert.ok(second.refreshToken);
  assert.notEqual(second.refreshToken, first.refreshToken);
  assert.notEqual(second.accessToken, first.accessToken);
  assert.ok(second.idToken);
  const third = await refresh(setup, second);
  assert.notEqual(third.refreshToken, second.refreshToken);
  assert.equal(setup.op.stats.refreshes, 2);
});

Deno.test("refreshTokens() is refused a reused refresh token, and the grant ends", async () => {
  await using setup = await setUp();
  const first = await signIn(setup);
  const second = await refresh(setup, first);
  // The old, already rotated refresh token is refused...
  await assert.rejects(
    refresh(setup, first),
    oauthErrorWith("invalid_grant"),
  );
  // ...and oidc-provider revokes the whole grant on reuse, so the newest
  // refresh token fails too.
  await assert.rejects(
    refresh(setup, second),
    oauthErrorWith("invalid_grant"),
  );
  assert.equal(setup.op.stats.refreshes, 3);
});

Deno.test("refreshTokens() keeps the refresh token when oidc-provider does not rotate", async () => {
  await using setup = await setUp({ rotateRefreshTokens: false });
  const first = await signIn(setup);
  const second = await refresh(setup, first);
  assert.equal(second.refreshToken, first.refreshToken);
  assert.notEqual(second.accessToken, first.accessToken);
  const third = await refresh(setup, second);
  assert.equal(third.refreshToken, first.refreshToken);
});

Deno.test("revokeTokens() ends the grant at oidc-provider", async () => {
  await using setup = await setUp();
  const tokens = await signIn(setup);
  const revoked = await revokeTokens(setup.server, {
    clientId: setup.op.clientId,
    tokens,
  });
  assert.equal(revoked, true);
  assert.equal(setup.op.stats.revocations, 2); // refresh token, access token
  await assert.rejects(
    refresh(setup, tokens),
    oauthErrorWith("invalid_grant"),
  );
  // Revoking again is fine: RFC 7009 answers 200 for unknown tokens.
  assert.equal(
    await revokeTokens(setup.server, { clientId: setup.op.clientId, tokens }),
    true,
  );
});

Deno.test("revokeTokens() returns false when oidc-provider offers no revocation", async () => {
  await using setup = await setUp({ revocation: false });
  const tokens = await signIn(setup);
  assert.equal(
    await revokeTokens(setup.server, { clientId: setup.op.clientId, tokens }),
    false,
  );
  assert.equal(setup.op.stats.revocations, 0);
});

/** A signed-in TokenSession over a memory store. */
async function signedInSession(
  setup: Setup,
): Promise<
  { session: TokenSession; store: MemoryTokenStore; tokens: TokenSet }
> {
  const tokens = await signIn(setup);
  const store = new MemoryTokenStore(tokens);
  const session = new TokenSession({
    server: setup.server,
    clientId: setup.op.clientId,
    store,
  });
  return { session, store, tokens };
}

Deno.test("TokenSession.signOut() at oidc-provider revokes, then forgets the tokens", async () => {
  await using setup = await setUp();
  const { session, store, tokens } = await signedInSession(setup);
  assert.deepEqual(await session.signOut(), {
    revoked: true,
    outcome: "revoked",
  });
  assert.equal(await store.load(), undefined);
  await assert.rejects(refresh(setup, tokens), oauthErrorWith("invalid_grant"));
});

Deno.test("TokenSession.signOut() when oidc-provider refuses public clients (metadata without none): public_client_refused, tokens forgotten", async () => {
  await using setup = await setUp({
    revocationAuthMethods: ["client_secret_basic"],
    revocationAnswer: "invalid_client",
  });
  const { session, store } = await signedInSession(setup);
  const result = await session.signOut();
  assert.equal(result.revoked, false);
  assert.equal(result.outcome, "public_client_refused");
  assert.ok(oauthErrorWith("invalid_client")(result.error));
  assert.equal(result.error!.status, 401);
  assert.equal(setup.op.stats.revocations, 1, "tried once, then stopped");
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() when the revocation endpoint answers a bare 401: refused, tokens forgotten", async () => {
  await using setup = await setUp({ revocationAnswer: "401" });
  const { session, store } = await signedInSession(setup);
  const result = await session.signOut();
  assert.equal(result.outcome, "refused");
  assert.ok(oauthErrorWith("invalid_client")(result.error));
  assert.equal(await store.load(), undefined);
});

Deno.test("TokenSession.signOut() keeps the tokens when the revocation endpoint answers 503", async () => {
  await using setup = await setUp({ revocationAnswer: "503" });
  const { session, store, tokens } = await signedInSession(setup);
  await assert.rejects(session.signOut(), (err) => {
    oauthErrorWith("server_error")(err);
    assert.equal((err as OAuthError).status, 503);
    return true;
  });
  assert.deepEqual(await store.load(), tokens);
});

Deno.test("TokenSession.signOut() keeps the tokens when oidc-provider is down", async () => {
  await using setup = await setUp();
  const { session, store, tokens } = await signedInSession(setup);
  await setup.op.close();
  await assert.rejects(session.signOut(), oauthErrorWith("network_error"));
  assert.deepEqual(await store.load(), tokens);
});

Deno.test("TokenSession refreshes an expired token once for 10 concurrent callers", async () => {
  await using setup = await setUp();
  const signedIn = await signIn(setup);
  const store = new MemoryTokenStore({ ...signedIn, expiresAt: 0 });
  const session = new TokenSession({
    server: setup.server,
    clientId: setup.op.clientId,
    store,
    apiUrl: setup.op.issuer,
  });
  const tokens = await Promise.all(
    Array.from({ length: 10 }, () => session.getAccessToken()),
  );
  assert.equal(setup.op.stats.refreshes, 1);
  assert.equal(new Set(tokens).size, 1);
  assert.notEqual(tokens[0], signedIn.accessToken);
  const stored = await store.load();
  assert.equal(stored?.accessToken, tokens[0]);
  assert.ok(stored?.refreshToken);
  assert.notEqual(stored.refreshToken, signedIn.refreshToken);
  assert.ok(stored.expiresAt > Date.now());

  // The fresh token is not refreshed again, and it works at UserInfo.
  assert.equal(await session.getAccessToken(), tokens[0]);
  const response = await session.fetch(
    new URL(setup.server.metadata.userinfo_endpoint as string),
  );
  assert.equal(response.status, 200);
  const userinfo = await response.json();
  assert.equal(userinfo.sub, jwtPayload(signedIn.idToken!).sub);
  assert.equal(setup.op.stats.refreshes, 1);
  assert.deepEqual(setup.op.stats.serverErrors, []);
});

Deno.test("TokenSession asks to sign in again after oidc-provider revoked the grant", async () => {
  await using setup = await setUp();
  const signedIn = await signIn(setup);
  await revokeTokens(setup.server, {
    clientId: setup.op.clientId,
    tokens: signedIn,
  });
  const store = new MemoryTokenStore({ ...signedIn, expiresAt: 0 });
  const session = new TokenSession({
    server: setup.server,
    clientId: setup.op.clientId,
    store,
  });
  await assert.rejects(
    session.getAccessToken(),
    oauthErrorWith("login_required"),
  );
  assert.equal(await store.load(), undefined);
});

Deno.test("oidc-provider refuses an authorization request without PKCE", async () => {
  await using setup = await setUp();
  const pending = await startAuthorization(setup.server, {
    clientId: setup.op.clientId,
    redirectUri: setup.receiver.redirectUri,
    scope: "openid",
  });
  const url = new URL(pending.url);
  url.searchParams.delete("code_challenge");
  url.searchParams.delete("code_challenge_method");
  await browse(url);
  const callback = setup.receiver.callbacks.at(-1);
  assert.ok(callback, "the provider redirected back with an error");
  assert.equal(callback.searchParams.get("code"), null);
  assert.throws(
    () => parseCallback(setup.server, callback, { state: pending.state }),
    oauthErrorWith("authorization_error"),
  );
  assert.equal(callback.searchParams.get("error"), "invalid_request");
});

Deno.test("startOidcProvider() frees its port on close, and close() is idempotent", async () => {
  const op = await startOidcProvider();
  const response = await fetch(`${op.issuer}/.well-known/openid-configuration`);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  await op.close();
  await op.close();
  const port = Number(new URL(op.issuer).port);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  listener.close();
});

Deno.test("oidc-provider with inaccurate metadata (no none, no refresh_token grant, iss not advertised): sign-in, refresh and revocation work, and iss is still checked when sent", async () => {
  await using setup = await setUp({
    editMetadata: (metadata) => {
      metadata.token_endpoint_auth_methods_supported = ["client_secret_basic"];
      metadata.grant_types_supported = ["authorization_code"];
      delete metadata.authorization_response_iss_parameter_supported;
      metadata.code_challenge_methods_supported = "S256";
    },
  });
  const { metadata } = setup.server;
  assert.equal(
    metadata.authorization_response_iss_parameter_supported,
    undefined,
  );
  assert.deepEqual(metadata.grant_types_supported, ["authorization_code"]);

  const { pending, callback } = await authorize(setup);
  assert.equal(callback.searchParams.get("iss"), setup.op.issuer);
  const expected = { state: pending.state };
  // Sent although not advertised: checked all the same (RFC 9207 §2.4).
  assert.throws(
    () =>
      parseCallback(
        setup.server,
        withParam(callback, "iss", "http://127.0.0.1:1"),
        expected,
      ),
    oauthErrorWith("iss_mismatch"),
  );
  // Not advertised, so a callback without it is no mix-up sign.
  assert.equal(
    parseCallback(setup.server, without(callback, "iss"), expected),
    callback.searchParams.get("code"),
  );
  const tokens = await finish(setup, pending, callback);
  const next = await refresh(setup, tokens);
  assert.notEqual(next.accessToken, tokens.accessToken);
  assert.equal(setup.op.stats.refreshes, 1);
  assert.equal(
    await revokeTokens(setup.server, {
      clientId: setup.op.clientId,
      tokens: next,
    }),
    true,
  );
  assert.deepEqual(setup.op.stats.serverErrors, []);
});
