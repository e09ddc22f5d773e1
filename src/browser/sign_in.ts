/**
 * Signing in from a page: send the person to the server, then finish the
 * sign-in when the browser comes back with a code.
 *
 * @module
 */
import { startAuthorization } from "../core/authorization.ts";
import { parseCallback } from "../core/callback.ts";
import { isOAuthError, OAuthError } from "../core/errors.ts";
import type { AuthServer } from "../core/server.ts";
import type { TokenStore } from "../core/store.ts";
import { httpOptionsOf } from "../core/transport.ts";
import {
  exchangeCode,
  type TokenRequestOptions,
  type TokenSet,
} from "../core/token.ts";
import {
  assertSecureContext,
  corsAwareFetch,
  page,
  pageUrl,
  sessionStore,
  thisPage,
} from "./_dom.ts";

/** The key a started sign-in is kept under when none is given. */
export const DEFAULT_PENDING_KEY = "looker-oauth:pending";

/** Parameters of an authorization response, removed from the address bar. */
const CALLBACK_PARAMS = [
  "code",
  "state",
  "iss",
  "error",
  "error_description",
  "error_uri",
];

/** Where a started sign-in is kept until the browser comes back. */
export interface PendingStorageOptions {
  /**
   * The storage: `sessionStorage` by default, which belongs to this tab, so
   * a callback opened in another tab finds nothing to finish. Keep it so:
   * with `localStorage`, two tabs loading the same callback at the same
   * moment could both redeem the code, and servers revoke what a reused code
   * gave.
   */
  storage?: Storage;
  /** The storage key. Default {@linkcode DEFAULT_PENDING_KEY}. */
  key?: string;
}

/** What {@linkcode beginSignIn} and {@linkcode signIn} need. */
export interface SignInOptions extends PendingStorageOptions {
  /** The client id (Looker: the `client_guid` the app was registered with). */
  clientId: string;
  /**
   * The redirect URI, exactly as registered. Default: this page's origin and
   * path, without query or fragment (the page is its own callback).
   */
  redirectUri?: string;
  /** Space-separated scopes. Looker default: `cors_api`. */
  scope?: string;
  /** More authorization parameters, e.g. `prompt`. */
  extraParams?: Readonly<Record<string, string>>;
}

/** What a started sign-in keeps in storage. */
interface Pending {
  issuer: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeVerifier: string;
  /** Set when `openid` was requested; checked in the ID token. */
  nonce?: string;
}

/**
 * Starts a sign-in: a fresh PKCE verifier (S256) and `state`, kept with the
 * client id and redirect URI under one key of `sessionStorage` (or the
 * storage given), and the authorization URL to navigate to. A new sign-in
 * replaces one that was started before.
 *
 * @param server Where to sign in, e.g. `lookerServer({ lookerUrl, apiUrl,
 *   tokenRequestBody: "json" })`.
 * @param options Client id, redirect URI, scope, storage.
 * @returns The authorization URL.
 * @throws {OAuthError} `insecure_context` on a page without Web Crypto
 *   (plain http off localhost); otherwise as `startAuthorization()`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636.html#section-4
 *
 * @example
 * ```ts
 * import { beginSignIn, lookerServer } from "@looker-oauth/pkce/browser";
 *
 * const server = lookerServer({
 *   lookerUrl: "https://example.looker.com",
 *   tokenRequestBody: "json",
 * });
 * const url = await beginSignIn(server, {
 *   clientId: "my-app",
 *   redirectUri: "http://localhost:8080/", // default: this page
 *   storage: sessionStorage, // the default
 * });
 * if (url.origin + url.pathname !== "https://example.looker.com/auth") {
 *   throw new Error(`unexpected ${url}`);
 * }
 * // In a page: location.assign(url);
 * ```
 */
export async function beginSignIn(
  server: AuthServer,
  options: SignInOptions,
): Promise<URL> {
  assertSecureContext();
  const storage = options.storage ?? sessionStore();
  const redirectUri = options.redirectUri ?? thisPage();
  const started = await startAuthorization(server, {
    clientId: options.clientId,
    redirectUri,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...(options.extraParams ? { extraParams: options.extraParams } : {}),
  });
  const pending: Pending = {
    issuer: server.metadata.issuer,
    clientId: options.clientId,
    redirectUri,
    state: started.state,
    codeVerifier: started.codeVerifier,
    ...(started.nonce === undefined ? {} : { nonce: started.nonce }),
  };
  storage.setItem(options.key ?? DEFAULT_PENDING_KEY, JSON.stringify(pending));
  return started.url;
}

/**
 * Starts a sign-in ({@linkcode beginSignIn}) and navigates the page to the
 * server.
 *
 * @param server Where to sign in.
 * @param options Client id, redirect URI, scope, storage.
 * @returns When the navigation has been asked for; the page then unloads.
 * @throws {OAuthError} As {@linkcode beginSignIn}.
 *
 * @example
 * ```ts ignore
 * import { lookerServer, signIn } from "@looker-oauth/pkce/browser";
 *
 * declare const button: HTMLButtonElement;
 * const server = lookerServer({ lookerUrl: "https://example.looker.com" });
 * button.onclick = () => signIn(server, { clientId: "my-app" });
 * ```
 */
export async function signIn(
  server: AuthServer,
  options: SignInOptions,
): Promise<void> {
  const url = await beginSignIn(server, options);
  const location = page.location;
  if (!location) {
    throw new OAuthError("invalid_argument", "there is no page to navigate", {
      hint: "use beginSignIn() and open the URL yourself",
    });
  }
  location.assign(url.href);
}

/** The part of the page's `history` that {@linkcode completeSignIn} uses. */
export interface HistoryLike {
  /** The current entry's state, kept as it is. */
  readonly state: unknown;
  /**
   * Replaces the current entry's URL without loading it.
   *
   * @param data The entry's state.
   * @param unused Ignored by browsers; pass `""`.
   * @param url The new URL, same origin.
   */
  replaceState(data: unknown, unused: string, url?: string | URL): void;
}

/** What {@linkcode completeSignIn} takes. */
export interface CompleteSignInOptions
  extends PendingStorageOptions, TokenRequestOptions {
  /** The callback URL. Default: the page's URL. */
  url?: string | URL;
  /**
   * Where to save the tokens, e.g. a `WebStorageTokenStore`. Default: not
   * saved, only returned.
   */
  store?: TokenStore;
  /**
   * The history whose current entry loses `code` and `state`. Default the
   * page's `history`; `null` leaves the address bar alone.
   */
  history?: HistoryLike | null;
}

/**
 * Tells whether a URL is an authorization response: it carries `code`,
 * `state` or `error` (Looker's `?&code=...&state=...` shape included).
 *
 * @param url The URL; default the page's.
 * @returns `true` for a callback.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSignInCallback } from "@looker-oauth/pkce/browser";
 *
 * assert.equal(isSignInCallback("http://localhost:8080/?&code=a&state=b"), true);
 * assert.equal(isSignInCallback("http://localhost:8080/"), false);
 * ```
 */
export function isSignInCallback(url: string | URL = pageUrl()): boolean {
  const params = new URL(url).searchParams;
  return params.has("code") || params.has("state") || params.has("error");
}

/**
 * Finishes a sign-in when the page's URL is a callback; does nothing (and
 * returns `undefined`) otherwise.
 *
 * In order:
 *
 * 1. the started sign-in is read from storage; none (storage cleared,
 *    another tab, a bookmarked or replayed callback) is `no_pending_sign_in`;
 * 2. `state` is checked before anything else in the callback; a mismatch
 *    leaves the started sign-in waiting for its real callback;
 * 3. the started sign-in is removed from storage, in the same task as it
 *    was read, so a reload or a second copy of the callback cannot redeem
 *    the code again;
 * 4. `code`, `state` and the other response parameters leave the address
 *    bar (`history.replaceState`), whatever the outcome;
 * 5. the code is exchanged with a CORS `fetch` to the token endpoint (as
 *    JSON where the server's `tokenRequestBody` is `json`);
 * 6. the tokens are saved to `store`, if given, and returned.
 *
 * @param server The server the sign-in went to.
 * @param options Callback URL, storage, token store, transport options.
 * @returns The tokens, or `undefined` when the URL is not a callback.
 * @throws {OAuthError} `no_pending_sign_in`, `state_mismatch`,
 *   `access_denied`, `authorization_error`, `iss_mismatch`,
 *   `invalid_callback`; `cors_refused` when the page's origin is not
 *   allowed to call the API host (Looker: the Embedded Domain Allowlist);
 *   otherwise as `exchangeCode()` (`redirect_uri_mismatch`,
 *   `invalid_grant`, ...).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9700.html#section-4.7
 *
 * @example
 * ```ts ignore
 * import {
 *   completeSignIn,
 *   lookerServer,
 *   WebStorageTokenStore,
 * } from "@looker-oauth/pkce/browser";
 *
 * const server = lookerServer({
 *   lookerUrl: "https://example.looker.com",
 *   tokenRequestBody: "json",
 * });
 * const tokens = await completeSignIn(server, {
 *   store: new WebStorageTokenStore(),
 * });
 * if (tokens) console.log("signed in");
 * ```
 */
export async function completeSignIn(
  server: AuthServer,
  options: CompleteSignInOptions = {},
): Promise<TokenSet | undefined> {
  const url = new URL(options.url ?? pageUrl());
  if (!isSignInCallback(url)) return undefined;
  let pending: Pending;
  let code: string;
  try {
    [pending, code] = takePending(server, url, options);
  } finally {
    cleanAddressBar(url, options.history);
  }
  const { now } = options;
  const tokens = await exchangeCode(server, {
    ...httpOptionsOf(options),
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    code,
    codeVerifier: pending.codeVerifier,
    ...(pending.nonce === undefined ? {} : { nonce: pending.nonce }),
    fetch: corsAwareFetch(options.fetch, server.looker !== undefined),
    ...(now === undefined ? {} : { now }),
  });
  await options.store?.save(tokens);
  return tokens;
}

/**
 * Reads the started sign-in, checks the callback against it, and removes it:
 * synchronously, so nothing else on the page runs in between.
 */
function takePending(
  server: AuthServer,
  url: URL,
  options: PendingStorageOptions,
): [Pending, string] {
  const storage = options.storage ?? sessionStore();
  const key = options.key ?? DEFAULT_PENDING_KEY;
  const pending = parsePending(storage.getItem(key));
  if (!pending || pending.issuer !== server.metadata.issuer) {
    throw new OAuthError(
      "no_pending_sign_in",
      "no sign-in started in this tab is waiting for this callback",
      { hint: "start the sign-in again" },
    );
  }
  let code: string;
  try {
    code = parseCallback(server, url, { state: pending.state });
  } catch (err) {
    // A forged or stale callback leaves the sign-in waiting for its own;
    // any other answer to it (an error one) ends it.
    if (!isOAuthError(err, "state_mismatch")) storage.removeItem(key);
    throw err;
  }
  storage.removeItem(key);
  return [pending, code];
}

function parsePending(text: string | null): Pending | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text);
    const fields = [
      "issuer",
      "clientId",
      "redirectUri",
      "state",
      "codeVerifier",
    ];
    if (
      fields.every((field) => typeof value?.[field] === "string") &&
      (value.nonce === undefined || typeof value.nonce === "string")
    ) {
      return value;
    }
  } catch {
    // not ours
  }
  return undefined;
}

function cleanAddressBar(
  url: URL,
  history: HistoryLike | null | undefined,
): void {
  const target = history === undefined ? page.history : history;
  // By default only the page's own URL is rewritten.
  if (!target || (!history && page.location?.href !== url.href)) return;
  const clean = new URL(url);
  for (const name of CALLBACK_PARAMS) clean.searchParams.delete(name);
  target.replaceState(target.state, "", clean.href);
}
