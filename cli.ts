/**
 * The `looker-oauth` command: `deno run -A jsr:@looker-oauth/pkce/cli login`.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
