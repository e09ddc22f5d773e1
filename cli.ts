/**
 * The `looker-oauth` command: `deno run -A jsr:@looker-oauth/pkce/cli login`.
 *
 * @module
 */
if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
