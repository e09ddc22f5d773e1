/**
 * The token leg: exchanging a code, refreshing, and the `TokenSet` they
 * return.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { OAuthError } from "./errors.ts";
import type { HttpOptions } from "./http_options.ts";
import { assertClientId, isTokenText, readText } from "./transport.ts";
import { toAs, toClient, type Transport, transport } from "./_oauth.ts";
import {
  assertJsonResponse,
  errorFromProcessing,
  errorFromResponse,
} from "./_token_errors.ts";
import type { AuthServer } from "./server.ts";

/**
 * Tokens, with an absolute expiry.
 *
 * `expiresAt` follows one documented rule: the local time at which the
 * response arrived, plus `expires_in` seconds. A server's clock is never
 * consulted, so clock skew between machines does not matter. Without
 * `expires_in`, the lifetime is assumed to be
 * 3600 seconds, an hour (a 401 still triggers a refresh).
 * A negative or non-numeric `expires_in` is an invalid response, and so is
 * one too large for a `Date` to hold the expiry.
 */
export interface TokenSet {
  /** The bearer token for API calls. */
  readonly accessToken: string;
  /** The token type, lowercased (`bearer`). */
  readonly tokenType: string;
  /** When the access token expires, in epoch milliseconds. */
  readonly expiresAt: number;
  /** The refresh token, if the server issued one. */
  readonly refreshToken?: string;
  /** The granted scope, if the server said. */
  readonly scope?: string;
  /** The OpenID Connect ID token, if any. */
  readonly idToken?: string;
}

/** Seconds an access token is assumed to live when `expires_in` is absent. */
export const DEFAULT_EXPIRES_IN = 3600;

/** Options every token request takes. */
export interface TokenRequestOptions extends HttpOptions {
  /** The clock, in epoch ms; `Date.now` by default. */
  now?: () => number;
}

/** What {@linkcode exchangeCode} needs. */
export interface CodeExchange extends TokenRequestOptions {
  /** The client id used for the authorization request. */
  clientId: string;
  /** The redirect URI used for the authorization request. */
  redirectUri: string;
  /** The code returned by {@linkcode parseCallback}. */
  code: string;
  /** The PKCE verifier from {@linkcode startAuthorization}. */
  codeVerifier: string;
  /**
   * The `nonce` from {@linkcode startAuthorization} (set when `openid` was
   * requested). The ID token must carry it. Without it, an ID token must
   * carry none.
   */
  nonce?: string;
}

/**
 * Exchanges an authorization code for tokens. The client is public: the
 * `client_id` goes in the body (a form, or JSON where the server's
 * `tokenRequestBody` says so) and no `Authorization` header is sent.
 *
 * @param server Where the code came from.
 * @param exchange Client id, redirect URI, code, verifier, transport options.
 * @returns The tokens.
 * @throws {OAuthError} `invalid_grant`, `redirect_uri_mismatch`,
 *   `invalid_client`, `basic_auth_rejected`, `wrong_host`,
 *   `token_endpoint_error`, `server_error`, `invalid_response`,
 *   `response_too_large`, `timeout`, `network_error`
 *   (`invalid_response` also for tokens or a scope that are not printable
 *   ASCII, RFC 6749 Appendix A; `null` optional members count as absent);
 *   `nonce_mismatch` when
 *   the ID token's `nonce` is not the one sent. The code is never sent
 *   twice.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc7636.html#section-4.5
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 *
 * @example
 * ```ts ignore
 * import {
 *   type AuthServer,
 *   exchangeCode,
 *   type PendingAuthorization,
 * } from "@looker-oauth/pkce/core";
 *
 * declare const server: AuthServer;
 * declare const pending: PendingAuthorization; // from startAuthorization()
 * declare const code: string; // from parseCallback()
 * const tokens = await exchangeCode(server, {
 *   clientId: "my-app",
 *   redirectUri: pending.redirectUri,
 *   code,
 *   codeVerifier: pending.codeVerifier,
 * });
 * ```
 */
export async function exchangeCode(
  server: AuthServer,
  exchange: CodeExchange,
): Promise<TokenSet> {
  assertClientId(exchange.clientId);
  for (const key of ["code", "codeVerifier", "redirectUri"] as const) {
    if (typeof exchange[key] !== "string" || exchange[key] === "") {
      throw new OAuthError("invalid_argument", `${key} is required`);
    }
  }
  if (exchange.nonce !== undefined && typeof exchange.nonce !== "string") {
    throw new OAuthError("invalid_argument", "nonce must be a string");
  }
  const as = toAs(server);
  const client = toClient(exchange.clientId);
  return await tokenRequest(
    server,
    "exchange",
    exchange,
    [exchange.code, exchange.codeVerifier],
    (options) =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        oauth.None(),
        "authorization_code",
        {
          code: exchange.code,
          redirect_uri: exchange.redirectUri,
          code_verifier: exchange.codeVerifier,
        },
        options,
      ),
    // A nonce is checked in the ID token. A server that answers `openid`
    // without one is tolerated (there is nothing to check), so whether the
    // body holds an ID token is looked at first.
    (response, idToken) =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        response,
        exchange.nonce !== undefined && idToken
          ? { expectedNonce: exchange.nonce }
          : undefined,
      ),
  );
}

/** What {@linkcode refreshTokens} needs. */
export interface TokenRefresh extends TokenRequestOptions {
  /** The client id the tokens were issued to. */
  clientId: string;
  /** The current tokens; their refresh token is used. */
  tokens: TokenSet;
  /**
   * The redirect URI of the original sign-in. Looker requires it in refresh
   * requests; other servers ignore it.
   */
  redirectUri?: string;
  /** A narrower scope to ask for, if any. */
  scope?: string;
}

/**
 * Uses the refresh token for new tokens. An answer without a
 * `refresh_token` keeps the old one; an answer with one replaces it
 * (rotation).
 *
 * @param server Where the tokens came from.
 * @param refresh Client id, current tokens, (for Looker) the redirect URI.
 * @returns The new tokens.
 * @throws {OAuthError} `login_required` when there is no refresh token;
 *   `invalid_grant` when it is refused (sign in again), whether as RFC 6749
 *   says (`error=invalid_grant`) or as Looker's API errors read (`message`
 *   with 400, 401 or 403); otherwise as {@linkcode exchangeCode}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-6
 *
 * @example
 * ```ts ignore
 * import {
 *   type AuthServer,
 *   refreshTokens,
 *   type TokenSet,
 * } from "@looker-oauth/pkce/core";
 *
 * declare const server: AuthServer;
 * declare const tokens: TokenSet; // with a refresh token
 * const next = await refreshTokens(server, {
 *   clientId: "my-app",
 *   tokens,
 *   redirectUri: "http://localhost:8080/callback",
 * });
 * ```
 */
export async function refreshTokens(
  server: AuthServer,
  refresh: TokenRefresh,
): Promise<TokenSet> {
  assertClientId(refresh.clientId);
  const refreshToken = refresh.tokens?.refreshToken;
  if (typeof refreshToken !== "string" || refreshToken === "") {
    throw new OAuthError("login_required", "there is no refresh token", {
      hint: "sign in again",
    });
  }
  if (server.looker && !refresh.redirectUri) {
    throw new OAuthError(
      "invalid_argument",
      "Looker requires the redirect URI in refresh requests",
    );
  }
  const as = toAs(server);
  const client = toClient(refresh.clientId);
  const additionalParameters: Record<string, string> = {};
  if (refresh.redirectUri) {
    additionalParameters.redirect_uri = refresh.redirectUri;
  }
  if (refresh.scope) additionalParameters.scope = refresh.scope;
  return await tokenRequest(
    server,
    "refresh",
    refresh,
    [refreshToken, refresh.tokens.accessToken],
    (options) =>
      oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, {
        additionalParameters,
        ...options,
      }),
    (response) => oauth.processRefreshTokenResponse(as, client, response),
    refresh.tokens,
  );
}

/**
 * The part both grants share: sends the request through the bounded
 * transport, maps a refusal or a failure to an `OAuthError` (never quoting
 * `secrets`), refuses a body that is not JSON, drops `null` optional members,
 * lets oauth4webapi check the answer, and builds the `TokenSet`.
 */
async function tokenRequest(
  server: AuthServer,
  operation: "exchange" | "refresh",
  options: TokenRequestOptions,
  secrets: readonly string[],
  send: (transport: Transport) => Promise<Response>,
  check: (
    response: Response,
    idToken: boolean,
  ) => Promise<oauth.TokenEndpointResponse>,
  previous?: TokenSet,
): Promise<TokenSet> {
  const now = options.now ?? Date.now;
  let response: Response;
  try {
    response = await send(
      transport(
        server.metadata.token_endpoint,
        options,
        server.allowInsecureHttp,
        server.tokenRequestBody === "json",
      ),
    );
  } catch (err) {
    throw errorFromProcessing(err, operation);
  }
  const receivedAt = now();
  if (!response.ok) {
    throw await errorFromResponse(server, response, operation, secrets);
  }
  await assertJsonResponse(response, operation);
  let result: oauth.TokenEndpointResponse;
  try {
    const body = await withoutNullMembers(response);
    result = await check(
      new Response(body.text, {
        status: response.status,
        headers: response.headers,
      }),
      body.idToken,
    );
  } catch (err) {
    throw errorFromProcessing(err, operation);
  }
  return toTokenSet(result, receivedAt, previous);
}

/**
 * Optional members of a token response (RFC 6749 §5.1, OpenID Connect Core
 * §3.1.3.3) that some servers send as `null` when they have none. Looker's
 * API spec marks `refresh_token` nullable and its documented answer carries
 * `"refresh_token": null`. A `null` `expires_in` stays an invalid answer: a
 * lifetime the server meant to give but garbled is not guessed at.
 */
const OPTIONAL_MEMBERS = ["refresh_token", "scope", "id_token"];

/**
 * Reads a 2xx token response and drops optional members that are `null`, so
 * that they count as absent. Anything else is passed on as received, for
 * oauth4webapi to judge. `idToken` tells whether the body holds an ID token.
 */
async function withoutNullMembers(
  response: Response,
): Promise<{ text: string; idToken: boolean }> {
  const text = await readText(response);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // oauth4webapi says what is wrong with it
    return { text, idToken: false };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { text, idToken: false };
  }
  const members = parsed as Record<string, unknown>;
  const idToken = typeof members.id_token === "string";
  const nulls = OPTIONAL_MEMBERS.filter((key) => members[key] === null);
  if (nulls.length === 0) return { text, idToken };
  for (const key of nulls) delete members[key];
  return { text: JSON.stringify(members), idToken };
}

function toTokenSet(
  result: oauth.TokenEndpointResponse,
  receivedAt: number,
  previous?: TokenSet,
): TokenSet {
  if (result.token_type !== "bearer") {
    throw new OAuthError(
      "invalid_response",
      `the token endpoint issued a ${result.token_type} token; only bearer tokens are supported`,
    );
  }
  const expiresIn = result.expires_in ?? DEFAULT_EXPIRES_IN;
  const expiresAt = receivedAt + expiresIn * 1000;
  // Beyond what a Date holds (Infinity included, which JSON cannot store).
  if (Number.isNaN(new Date(expiresAt).getTime())) {
    throw new OAuthError(
      "invalid_response",
      "the token endpoint gave an invalid answer: expires_in is too large",
      {
        hint: "check that the URL points at the OAuth server's token endpoint",
      },
    );
  }
  // RFC 6749 Appendix A.12 and A.17: both are 1*VSCHAR (%x20-7E). Anything
  // else (ESC, CR, LF, NUL) could not go into an Authorization header and
  // would rewrite a terminal it is printed on.
  assertVschar(result.access_token, "access_token");
  if (result.refresh_token !== undefined) {
    assertVschar(result.refresh_token, "refresh_token");
  }
  // RFC 6749 Appendix A.4: a scope is printable ASCII too; one that is not
  // would be stored, then shown or refused where it is read back.
  if (result.scope !== undefined && !/^[\x20-\x7e]*$/.test(result.scope)) {
    throw new OAuthError(
      "invalid_response",
      "the token endpoint gave an invalid answer: scope has characters a scope cannot have (only printable ASCII is allowed)",
      {
        hint: "check that the URL points at the OAuth server's token endpoint",
      },
    );
  }
  const refreshToken = result.refresh_token ?? previous?.refreshToken;
  const scope = result.scope ?? previous?.scope;
  const idToken = result.id_token ?? previous?.idToken;
  return {
    accessToken: result.access_token,
    tokenType: result.token_type,
    expiresAt,
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(scope === undefined ? {} : { scope }),
    ...(idToken === undefined ? {} : { idToken }),
  };
}

function assertVschar(value: string, member: string): void {
  if (!isTokenText(value)) {
    throw new OAuthError(
      "invalid_response",
      `the token endpoint gave an invalid answer: ${member} has characters a token cannot have (only printable ASCII is allowed)`,
      {
        hint:
          "the server sent a malformed token; check that the URL points at the OAuth server's token endpoint",
      },
    );
  }
}
