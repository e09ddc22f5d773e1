/**
 * Sign in to Looker (or any OAuth 2.0 server) straight from a web page, with
 * no backend: authorization code + PKCE, the code redeemed at Looker's API
 * host through CORS, the API called from the page. Web platform only (fetch,
 * Web Crypto, Web Storage, Web Locks), so `deno bundle --platform browser`
 * serves it.
 *
 * - {@linkcode BrowserAuth}: the whole pattern in one object.
 * - {@linkcode beginSignIn} / {@linkcode signIn} and
 *   {@linkcode completeSignIn}: the two legs, for pages that want them
 *   apart.
 * - {@linkcode WebStorageTokenStore}: tokens in `sessionStorage` or
 *   `localStorage`, refreshed once across tabs.
 *
 * The core's names a page needs (`lookerServer`, `OAuthError`,
 * `TokenSession`, ...) are re-exported.
 *
 * Looker's side: register the app (`register_oauth_client_app`) with the
 * page's URL as `redirect_uri`, and add the page's origin to the Embedded
 * Domain Allowlist (Admin > Embed). Serve the page over HTTPS or from
 * localhost: PKCE needs Web Crypto, which browsers offer only to secure
 * contexts.
 *
 * @example Sign in, show who, sign out
 * ```ts ignore
 * import { BrowserAuth, isOAuthError } from "@looker-oauth/pkce/browser";
 *
 * const auth = new BrowserAuth({
 *   lookerUrl: "https://example.looker.com",
 *   apiUrl: "https://example.looker.com:19999",
 *   clientId: "my-app",
 * });
 * try {
 *   await auth.handleCallback();
 *   if (await auth.isSignedIn()) {
 *     const me = await (await auth.fetch("/api/4.0/user")).json();
 *     document.querySelector("#user")!.textContent = me.display_name;
 *   }
 * } catch (err) {
 *   if (isOAuthError(err)) alert(`${err.message}: ${err.hint}`);
 * }
 * ```
 *
 * @module
 */
export * from "./browser_auth.ts";
export * from "./sign_in.ts";
export * from "./web_storage_store.ts";
export * from "../core/errors.ts";
export * from "../core/http_options.ts";
export * from "../core/server.ts";
export type { TokenRequestOptions, TokenSet } from "../core/token.ts";
export * from "../core/store.ts";
export * from "../core/session.ts";
