/**
 * looker-oauth: sign in to Looker, and any OAuth 2.0 / OpenID Connect
 * server, from scripts, terminals, edge servers and browser apps.
 *
 * This entry point re-exports the pure core (also at
 * `@looker-oauth/pkce/core`, for browsers and edge runtimes) and adds what
 * needs Deno: the loopback redirect receiver and browser opener, the file
 * token store with its cross-process lock, and Looker API helpers.
 *
 * @example Sign in from a Deno script, keep the tokens, call the API
 * ```ts ignore
 * import {
 *   currentLookerUser,
 *   FileTokenStore,
 *   loginWithBrowser,
 *   lookerServer,
 *   stateHome,
 *   TokenSession,
 * } from "@looker-oauth/pkce";
 *
 * const server = lookerServer({ lookerUrl: "https://example.looker.com" });
 * const clientId = "my-app";
 * const redirectUri = "http://localhost:8080/callback";
 * const store = new FileTokenStore({ home: stateHome() });
 * if (!(await store.load())) {
 *   const { tokens } = await loginWithBrowser({ server, clientId, redirectUri });
 *   await store.save(tokens);
 * }
 * const session = new TokenSession({ server, clientId, redirectUri, store });
 * console.log(await currentLookerUser(session));
 * ```
 *
 * @module
 */
export * from "./src/core/mod.ts";
export * from "./src/loopback/errors.ts";
export {
  openBrowser,
  type OpenBrowserOptions,
} from "./src/loopback/browser.ts";
export * from "./src/loopback/receiver.ts";
export * from "./src/loopback/login.ts";
export * from "./src/store/errors.ts";
export * from "./src/store/home.ts";
export * from "./src/store/file_store.ts";
export { caFileFetch } from "./src/store/ca_file.ts";
export {
  openProfile,
  type OpenProfileOptions,
  type Profile,
  type ProfileSession,
  type ProfileUser,
} from "./src/store/profiles.ts";
export {
  LookerApiError,
  type LookerApiErrorCode,
} from "./src/looker/api_error.ts";
export { currentLookerUser, type LookerUser } from "./src/looker/api.ts";
export * from "./src/looker/versions.ts";
export * from "./src/looker/register.ts";
export { politeFetch, type PoliteFetchOptions } from "./src/looker/http.ts";
