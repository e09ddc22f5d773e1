/**
 * looker-oauth: sign in to Looker, and any OAuth 2.0 / OpenID Connect
 * server, from scripts, terminals, edge servers and browser apps.
 *
 * This entry point re-exports the pure core (also at
 * `@looker-oauth/pkce/core`) and adds the parts that need Deno: the loopback
 * redirect receiver, the browser opener and the file token store.
 *
 * @module
 */
export * from "./src/core/mod.ts";
