/**
 * The `looker-oauth` command: `deno run -A jsr:@looker-oauth/pkce/cli login`.
 *
 * `main.ts` is imported statically: a dynamic `import()` would cost every
 * `token` call about 0.5 MiB of peak memory (bench/RESULTS.md).
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
