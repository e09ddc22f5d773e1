/**
 * The pure core of looker-oauth: OAuth 2.0 authorization code + PKCE for
 * Looker and any OAuth 2.0 / OpenID Connect server, on Web Crypto and
 * `fetch` alone. It runs in browsers, Deno, Deno Deploy, Workers and Node.
 *
 * Built on {@link https://github.com/panva/oauth4webapi | oauth4webapi}.
 *
 * @example Sign in to Looker from a browser app
 * ```ts ignore
 * import {
 *   exchangeCode,
 *   lookerServer,
 *   parseCallback,
 *   startAuthorization,
 * } from "@looker-oauth/pkce/core";
 *
 * const server = lookerServer({
 *   lookerUrl: "https://example.looker.com",
 *   apiUrl: "https://example.looker.com:19999",
 * });
 * const redirectUri = "https://app.example.com/callback";
 * // 1. Send the person to Looker.
 * const pending = await startAuthorization(server, {
 *   clientId: "my-app",
 *   redirectUri,
 * });
 * sessionStorage.setItem("pending", JSON.stringify(pending));
 * location.assign(pending.url);
 * // 2. Back on /callback:
 * const saved = JSON.parse(sessionStorage.getItem("pending")!);
 * const code = parseCallback(server, location.href, { state: saved.state });
 * const tokens = await exchangeCode(server, {
 *   clientId: "my-app",
 *   redirectUri,
 *   code,
 *   codeVerifier: saved.codeVerifier,
 * });
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./http_options.ts";
export * from "./server.ts";
export * from "./pkce.ts";
export * from "./authorization.ts";
export * from "./callback.ts";
export {
  type CodeExchange,
  exchangeCode,
  refreshTokens,
  type TokenRefresh,
  type TokenRequestOptions,
  type TokenSet,
} from "./token.ts";
export * from "./revoke.ts";
export * from "./store.ts";
export * from "./session.ts";
