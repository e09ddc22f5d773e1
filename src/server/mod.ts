/**
 * Sign in to Looker (or any OpenID Connect / OAuth 2.0 server) from server
 * and edge apps: `deno serve`, Deno Deploy, Workers, Node. Helpers over
 * Web-standard `Request` → `Response` (sign in, handle the callback, the
 * session of a request, sign out), sealed cookies, and session stores. Pure:
 * Web Crypto and `fetch`, no Deno APIs. Sessions shared by many instances go
 * in Deno KV with `KvSessionStore` from `@looker-oauth/pkce/kv`.
 *
 * @example A `deno serve` app that signs its users in with Looker
 * ```ts ignore
 * import { lookerServer } from "@looker-oauth/pkce/core";
 * import {
 *   createAuthHelpers,
 *   MemorySessionStore,
 * } from "@looker-oauth/pkce/server";
 *
 * const auth = createAuthHelpers({
 *   server: lookerServer({
 *     lookerUrl: "https://example.looker.com",
 *     apiUrl: "https://example.looker.com:19999",
 *   }),
 *   clientId: "my-app",
 *   redirectUri: "https://app.example.com/callback",
 *   cookieSecret: Deno.env.get("COOKIE_SECRET")!,
 *   store: new MemorySessionStore(),
 * });
 *
 * export default {
 *   async fetch(request: Request): Promise<Response> {
 *     const { pathname } = new URL(request.url);
 *     if (pathname === "/signin") return await auth.signIn(request);
 *     if (pathname === "/callback") return await auth.handleCallback(request);
 *     if (pathname === "/signout") return await auth.signOut(request);
 *     const session = await auth.getSession(request);
 *     if (!session) return new Response('<a href="/signin">Sign in</a>');
 *     const me = await (await session.fetch("/api/4.0/user")).json();
 *     return new Response(`Hello, ${me.display_name}`);
 *   },
 * };
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./seal.ts";
export * from "./session_store.ts";
export * from "./auth_helpers.ts";
