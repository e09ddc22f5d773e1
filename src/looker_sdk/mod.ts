/**
 * The official Looker SDK (`@looker/sdk`) on looker-oauth's tokens. A
 * separate entry point, so that users of the core never download the SDK.
 * It re-exports the core, for the {@linkcode TokenSession} under a
 * {@linkcode LookerSdkSession}.
 *
 * @example A script on the sign-in of `looker-oauth login`
 * ```ts ignore
 * import { Looker40SDK } from "@looker/sdk";
 * import { LookerSdkSession } from "@looker-oauth/pkce/looker-sdk";
 *
 * const sdk = new Looker40SDK(await LookerSdkSession.fromProfile());
 * console.log(await sdk.ok(sdk.me()));
 * ```
 *
 * @module
 */
export * from "../core/mod.ts";
export * from "./session.ts";
export * from "./_sdk_types.ts";
