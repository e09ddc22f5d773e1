/**
 * A signed-in session: valid access tokens on demand, and authenticated
 * fetch.
 *
 * @module
 */
import { isOAuthError, OAuthError } from "./errors.ts";
import type { HttpOptions } from "./http_options.ts";
import { assertClientId, httpOptionsOf } from "./transport.ts";
import {
  sendWithToken,
  sessionApiUrl,
  signedOut,
  tokenRequestUrl,
} from "./api_request.ts";
import { DEFAULT_REFRESH_MARGIN_MS } from "./refresh_margin.ts";
import { revokeTokens } from "./revoke.ts";
import type { AuthServer } from "./server.ts";
import type { TokenStore } from "./store.ts";
import { refreshTokens, type TokenSet } from "./token.ts";

/** Options for {@linkcode TokenSession}. */
export interface TokenSessionOptions extends HttpOptions {
  /** Where the tokens came from. */
  server: AuthServer;
  /** The client id the tokens were issued to. */
  clientId: string;
  /** The redirect URI of the sign-in (Looker needs it to refresh). */
  redirectUri?: string;
  /** Where the tokens are kept. */
  store: TokenStore;
  /**
   * Refresh when fewer than this many milliseconds remain. Default 60 000.
   */
  refreshMargin?: number;
  /**
   * Base URL for {@linkcode TokenSession.fetch}: relative paths resolve
   * against it, and the token is sent to no other origin. Default: Looker's
   * API URL; none for other servers.
   */
  apiUrl?: string;
  /** The clock, in epoch ms; `Date.now` by default. */
  now?: () => number;
}

/**
 * Keeps an access token valid: refreshes it when fewer than `refreshMargin`
 * ms remain, and once more after a 401. Refreshes are single-flight:
 * concurrent callers in this process share one, and stores with
 * {@linkcode TokenStore.withLock} extend that across processes.
 *
 * A refused refresh clears the stored tokens (only if nobody changed them
 * meanwhile) and throws `login_required`.
 *
 * @example
 * ```ts ignore
 * import {
 *   type AuthServer,
 *   MemoryTokenStore,
 *   type TokenSet,
 *   TokenSession,
 * } from "@looker-oauth/pkce/core";
 *
 * declare const server: AuthServer; // lookerServer(), oauthServer() or discover()
 * declare const tokens: TokenSet; // from exchangeCode()
 * const session = new TokenSession({
 *   server,
 *   clientId: "my-app",
 *   redirectUri: "http://localhost:8080/callback",
 *   store: new MemoryTokenStore(tokens),
 * });
 * const me = await (await session.fetch("/api/4.0/user")).json();
 * ```
 */
export class TokenSession {
  readonly #options: TokenSessionOptions;
  readonly #margin: number;
  readonly #now: () => number;
  readonly #apiUrl: URL | undefined;
  #refreshing: Promise<TokenSet> | undefined;

  /**
   * Creates a session over a store. Nothing is read until first use.
   *
   * @param options Server, client, store and transport options.
   * @throws {OAuthError} `invalid_argument` for a missing client id or a bad
   *   `apiUrl`.
   */
  constructor(options: TokenSessionOptions) {
    assertClientId(options.clientId);
    this.#options = options;
    this.#margin = options.refreshMargin ?? DEFAULT_REFRESH_MARGIN_MS;
    this.#now = options.now ?? Date.now;
    this.#apiUrl = sessionApiUrl(options.apiUrl, options.server);
  }

  /**
   * Returns a valid access token, refreshing first if it expires within the
   * margin.
   *
   * @returns The access token.
   * @throws {OAuthError} `login_required` when there are no tokens, or the
   *   refresh was refused; transport errors when the server cannot be
   *   reached.
   */
  async getAccessToken(): Promise<string> {
    return (await this.getTokens()).accessToken;
  }

  /**
   * Returns valid tokens, refreshing first if the access token expires within
   * the margin.
   *
   * @returns The tokens.
   * @throws {OAuthError} As {@linkcode TokenSession.getAccessToken}.
   */
  async getTokens(): Promise<TokenSet> {
    const tokens = await this.#options.store.load();
    if (!tokens) throw signedOut();
    if (this.#isFresh(tokens)) return tokens;
    return await this.#refresh(tokens.accessToken);
  }

  /**
   * Refreshes now, even if the access token is still valid.
   *
   * @param rejectedAccessToken The access token a server just refused (a
   *   401), as {@linkcode TokenSession.fetch} passes after one: no second
   *   refresh when another caller or process already replaced it with
   *   tokens that are still valid.
   * @returns The new tokens.
   * @throws {OAuthError} As {@linkcode TokenSession.getAccessToken}.
   */
  async refresh(rejectedAccessToken?: string): Promise<TokenSet> {
    if (rejectedAccessToken !== undefined) {
      return await this.#refresh(rejectedAccessToken);
    }
    const tokens = await this.#options.store.load();
    if (!tokens) throw signedOut();
    return await this.#refresh(tokens.accessToken);
  }

  /**
   * Fetches with `Authorization: Bearer`. On a 401, refreshes once and
   * retries once (request bodies that are streams are not retried). API calls
   * are not bounded by `timeout` or `maxResponseBytes` (query results may be
   * large and slow); pass a `signal` to limit them. Without an `apiUrl`
   * (non-Looker servers), absolute URLs are sent as given: the caller
   * decides where the token may go.
   *
   * @param input A URL, or a path relative to the API URL.
   * @param init As for `fetch`.
   * @returns The response, whatever its status after the retry.
   * @throws {OAuthError} `invalid_argument` for a URL on another origin than
   *   the API URL; `insecure_http` for a URL that is neither `https:` nor
   *   `http:` on loopback (unless the server allows insecure http);
   *   `network_error` naming the host and, when known, why (refused, DNS,
   *   TLS) when no answer came; otherwise as
   *   {@linkcode TokenSession.getAccessToken}.
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = this.#resolve(input);
    const token = await this.getAccessToken();
    const replayable = !(init.body instanceof ReadableStream);
    const first = await this.#send(url, init, token);
    if (first.status !== 401 || !replayable) return first;
    await first.body?.cancel();
    const next = await this.#refresh(token);
    return await this.#send(url, init, next.accessToken);
  }

  /**
   * Ends the grant on the server when possible, and forgets the tokens unless
   * the failure may pass.
   *
   * The local tokens are deleted when the server confirmed, offers no
   * revocation, says the grant already ended, or refuses for good (a 4xx
   * such as `invalid_client`: retrying would not help, and the person wanted
   * to sign out). They are kept, and the error thrown, only for failures that
   * may pass: the server could not be reached, timed out, or answered 5xx,
   * 408 or 429.
   *
   * @returns What happened on the server; see {@linkcode SignOutResult}.
   * @throws {OAuthError} `network_error`, `timeout`, `server_error` (the
   *   tokens are kept, so the caller can retry), or a configuration error
   *   such as `insecure_http` raised before any request.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7009.html#section-2.2.1
   */
  async signOut(): Promise<SignOutResult> {
    const { store, server, clientId } = this.#options;
    let tokens = await store.load();
    if (!tokens) return { revoked: false, outcome: "not_signed_in" };
    const http = { ...this.#http(), clientId };
    let result: SignOutResult;
    try {
      if (server.looker && !this.#isFresh(tokens)) {
        tokens = await this.getTokens();
      }
      try {
        result = revokedOrNot(
          await revokeTokens(server, { ...http, tokens }),
        );
      } catch (err) {
        if (!(isOAuthError(err, "invalid_grant") && server.looker)) throw err;
        // Looker refused the access token: try once with a fresh one.
        tokens = await this.#refresh(tokens.accessToken);
        result = revokedOrNot(
          await revokeTokens(server, { ...http, tokens }),
        );
      }
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      if (err.code === "login_required") {
        result = { revoked: false, outcome: "already_ended" };
      } else if (isLastingRefusal(err)) {
        const methods =
          server.metadata.revocation_endpoint_auth_methods_supported;
        const publicRefused = !server.looker && Array.isArray(methods) &&
          !methods.includes("none");
        result = {
          revoked: false,
          outcome: publicRefused ? "public_client_refused" : "refused",
          error: err,
        };
      } else {
        throw err;
      }
    }
    await store.clear();
    return result;
  }

  #isFresh(tokens: TokenSet): boolean {
    return tokens.expiresAt - this.#now() > this.#margin;
  }

  #http(): HttpOptions {
    return httpOptionsOf(this.#options);
  }

  #resolve(input: string | URL): URL {
    return tokenRequestUrl(
      input,
      this.#apiUrl,
      this.#options.server.allowInsecureHttp,
    );
  }

  #send(url: URL, init: RequestInit, token: string): Promise<Response> {
    return sendWithToken(
      url,
      init,
      token,
      this.#options.fetch ?? globalThis.fetch,
      this.#options.signal,
    );
  }

  /**
   * Refreshes unless someone else already replaced `staleAccessToken`.
   * One refresh at a time in this process; the store's lock, if any, makes
   * it one at a time across processes.
   */
  #refresh(staleAccessToken: string): Promise<TokenSet> {
    this.#refreshing ??= this.#runRefresh(staleAccessToken).finally(
      () => {
        this.#refreshing = undefined;
      },
    );
    return this.#refreshing;
  }

  #runRefresh(staleAccessToken: string): Promise<TokenSet> {
    const { store, server, clientId, redirectUri } = this.#options;
    const run = async (): Promise<TokenSet> => {
      const current = await store.load();
      if (!current) throw signedOut();
      if (current.accessToken !== staleAccessToken && this.#isFresh(current)) {
        // Another caller or process refreshed while we waited for the lock.
        return current;
      }
      try {
        const next = await refreshTokens(server, {
          ...this.#http(),
          clientId,
          tokens: current,
          now: this.#now,
          ...(redirectUri === undefined ? {} : { redirectUri }),
        });
        await store.save(next);
        return next;
      } catch (err) {
        if (err instanceof OAuthError && err.code === "invalid_grant") {
          const now = await store.load();
          if (now && now.refreshToken === current.refreshToken) {
            await store.clear();
          } else if (now && this.#isFresh(now)) {
            // Another process saved newer tokens meanwhile: use them.
            return now;
          }
          throw new OAuthError(
            "login_required",
            "the refresh token was refused: sign in again",
            { cause: err, hint: "sign in again" },
          );
        }
        throw err;
      }
    };
    return store.withLock ? store.withLock(run) : run();
  }
}

/**
 * What {@linkcode TokenSession.signOut} did. In every case the local tokens
 * are gone afterwards.
 */
export interface SignOutResult {
  /** The server confirmed that the grant ended. */
  readonly revoked: boolean;
  /**
   * - `revoked`: the server ended the grant.
   * - `not_offered`: the server offers no revocation; the tokens stay valid
   *   there until they expire.
   * - `already_ended`: the server had already ended the grant.
   * - `public_client_refused`: the server refused, and its metadata says its
   *   revocation endpoint does not take public clients
   *   (`revocation_endpoint_auth_methods_supported` without `none`).
   * - `refused`: the server refused for good (e.g. `invalid_client`).
   * - `not_signed_in`: there were no tokens.
   */
  readonly outcome:
    | "revoked"
    | "not_offered"
    | "already_ended"
    | "public_client_refused"
    | "refused"
    | "not_signed_in";
  /** The server's refusal, for `public_client_refused` and `refused`. */
  readonly error?: OAuthError;
}

function revokedOrNot(revoked: boolean): SignOutResult {
  return revoked
    ? { revoked: true, outcome: "revoked" }
    : { revoked: false, outcome: "not_offered" };
}

/**
 * A refusal that retrying will not change: the server answered, with a
 * status other than 5xx, 408 (timeout) or 429 (too many requests).
 */
function isLastingRefusal(err: OAuthError): boolean {
  const status = err.status;
  return status !== undefined && status >= 400 && status < 500 &&
    status !== 408 && status !== 429;
}
