/**
 * Sign-in, API calls and sign-out for a page, in one object.
 *
 * @module
 */
import { OAuthError } from "../core/errors.ts";
import type { HttpOptions } from "../core/http_options.ts";
import { type AuthServer, lookerServer } from "../core/server.ts";
import { TokenSession } from "../core/session.ts";
import type { TokenSet } from "../core/token.ts";
import { httpOptionsOf } from "../core/transport.ts";
import { corsAwareFetch, sessionStore, thisPage } from "./_dom.ts";
import { completeSignIn, DEFAULT_PENDING_KEY, signIn } from "./sign_in.ts";
import { WebStorageTokenStore } from "./web_storage_store.ts";

/** Options for {@linkcode BrowserAuth}. */
export interface BrowserAuthOptions extends HttpOptions {
  /**
   * The Looker UI URL, where people sign in, e.g.
   * `https://example.looker.com`. Give it (and `apiUrl`), or `server`.
   */
  lookerUrl?: string | URL;
  /**
   * The Looker API URL, e.g. `https://example.looker.com:19999`. Default:
   * `lookerUrl`.
   */
  apiUrl?: string | URL;
  /**
   * Any other server (from `discover()` or `oauthServer()`), instead of
   * `lookerUrl`.
   */
  server?: AuthServer;
  /** The client id (Looker: the `client_guid` the app was registered with). */
  clientId: string;
  /**
   * The redirect URI, exactly as registered. Default: this page's origin and
   * path (the page is its own callback).
   */
  redirectUri?: string;
  /** Space-separated scopes. Looker default: `cors_api`. */
  scope?: string;
  /**
   * Where the tokens are kept: `sessionStorage` (default: per tab) or
   * `localStorage` (shared by the origin's tabs, refreshes single-flight
   * across them through Web Locks).
   */
  storage?: Storage;
  /** Refresh when fewer than this many ms remain. Default 60 000. */
  refreshMargin?: number;
}

/**
 * A page's sign-in to Looker (or another OAuth server), the direct-CORS way:
 * the browser is sent to Looker's `/auth`, comes back to the page with a
 * code, redeems it at the API host's `/api/token` with a CORS request (a JSON
 * body, as Looker's docs show), and calls the API with the access token.
 * Nothing but the browser and Looker is involved.
 *
 * Looker needs the app registered with the redirect URI (this page, by
 * default) and the page's origin on the Embedded Domain Allowlist.
 *
 * @example The whole page script
 * ```ts ignore
 * import { BrowserAuth } from "@looker-oauth/pkce/browser";
 *
 * declare const signInButton: HTMLButtonElement;
 * const auth = new BrowserAuth({
 *   lookerUrl: "https://example.looker.com",
 *   apiUrl: "https://example.looker.com:19999",
 *   clientId: "my-app",
 * });
 * await auth.handleCallback();
 * if (await auth.isSignedIn()) {
 *   const me = await (await auth.fetch("/api/4.0/user")).json();
 *   console.log(me.display_name);
 * } else {
 *   signInButton.onclick = () => auth.signIn();
 * }
 * ```
 */
export class BrowserAuth {
  /** Where the person signs in. */
  readonly server: AuthServer;
  /** Where the tokens are kept. */
  readonly store: WebStorageTokenStore;
  /** The session over the store: tokens kept valid, authenticated fetch. */
  readonly session: TokenSession;
  readonly #clientId: string;
  readonly #redirectUri: string;
  readonly #scope: string | undefined;
  readonly #http: HttpOptions;

  /**
   * Sets up a page's sign-in. Nothing is read or sent until first use.
   *
   * @param options The server, client id and storage.
   * @throws {OAuthError} `invalid_argument` without `lookerUrl` or `server`,
   *   or without a client id; `insecure_http` for an `http:` Looker URL off
   *   loopback.
   */
  constructor(options: BrowserAuthOptions) {
    const { lookerUrl, apiUrl, server } = options;
    if (server) this.server = server;
    else if (lookerUrl) {
      this.server = lookerServer({
        lookerUrl,
        ...(apiUrl === undefined ? {} : { apiUrl }),
        tokenRequestBody: "json",
      });
    } else {
      throw new OAuthError("invalid_argument", "lookerUrl is required", {
        hint: "give the Looker URL, e.g. https://example.looker.com",
      });
    }
    this.#http = {
      ...httpOptionsOf(options),
      fetch: corsAwareFetch(options.fetch, this.server.looker !== undefined),
    };
    this.#clientId = options.clientId;
    this.#redirectUri = options.redirectUri ?? thisPage();
    this.#scope = options.scope;
    this.store = new WebStorageTokenStore(
      options.storage ? { storage: options.storage } : {},
    );
    this.session = new TokenSession({
      ...this.#http,
      server: this.server,
      clientId: options.clientId,
      redirectUri: this.#redirectUri,
      store: this.store,
      ...(options.refreshMargin === undefined
        ? {}
        : { refreshMargin: options.refreshMargin }),
    });
  }

  /**
   * Sends the person to sign in; the page unloads.
   *
   * @returns When the navigation has been asked for.
   * @throws {OAuthError} `insecure_context` on a page without Web Crypto.
   */
  signIn(): Promise<void> {
    return signIn(this.server, {
      clientId: this.#clientId,
      redirectUri: this.#redirectUri,
      ...(this.#scope === undefined ? {} : { scope: this.#scope }),
    });
  }

  /**
   * Finishes the sign-in when the page's URL is a callback (see
   * `completeSignIn()`), saving the tokens; does nothing otherwise.
   *
   * @param url The callback URL. Default: the page's URL.
   * @returns The tokens, or `undefined` when the URL is not a callback.
   * @throws {OAuthError} As `completeSignIn()`: `no_pending_sign_in`,
   *   `state_mismatch`, `cors_refused`, `redirect_uri_mismatch`, ...
   */
  handleCallback(url?: string | URL): Promise<TokenSet | undefined> {
    return completeSignIn(this.server, {
      ...this.#http,
      store: this.store,
      ...(url === undefined ? {} : { url }),
    });
  }

  /**
   * Tells whether tokens are stored (they may still be refused).
   *
   * @returns `true` when signed in.
   */
  async isSignedIn(): Promise<boolean> {
    return (await this.store.load()) !== undefined;
  }

  /**
   * Returns a valid access token, refreshing it first if needed.
   *
   * @returns The access token.
   * @throws {OAuthError} `login_required` when signed out or the refresh was
   *   refused.
   */
  getAccessToken(): Promise<string> {
    return this.session.getAccessToken();
  }

  /**
   * Calls the API with the access token (see `TokenSession.fetch()`): paths
   * are relative to the API URL, and the token goes to no other origin.
   *
   * @param input A path such as `/api/4.0/user`, or a URL on the API host.
   * @param init As for `fetch`.
   * @returns The response.
   * @throws {OAuthError} `login_required`, `cors_refused`,
   *   `invalid_argument` for another origin.
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    return this.session.fetch(input, init);
  }

  /**
   * Signs out: Looker's `DELETE /api/4.0/logout` through CORS (which ends
   * the refresh token too), then the stored tokens and any started sign-in
   * are removed.
   *
   * @returns `true` when the server confirmed.
   * @throws {OAuthError} When the server cannot be reached; the tokens are
   *   kept then, so the person can try again.
   */
  async signOut(): Promise<boolean> {
    const { revoked } = await this.session.signOut();
    sessionStore().removeItem(DEFAULT_PENDING_KEY);
    return revoked;
  }
}
