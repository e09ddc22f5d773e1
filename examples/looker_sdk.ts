// The official Looker SDK on the sign-in of `looker-oauth login`: no glue,
// no secrets in the script. The SDK gets access tokens only; when one
// expires, looker-oauth refreshes it under the same lock as the CLI.
//
//   looker-oauth login --looker-url https://example.looker.com --client-id my-app
//   deno run --allow-net --allow-read --allow-write --allow-env examples/looker_sdk.ts [PROFILE]
// deno-lint-ignore-file no-console
import { Looker40SDK } from "@looker/sdk";
import { LookerSdkSession } from "../src/looker_sdk/mod.ts";

const sdk = new Looker40SDK(await LookerSdkSession.fromProfile(Deno.args[0]));
const me = await sdk.ok(sdk.me("id,display_name,email"));
console.log(JSON.stringify(me));
