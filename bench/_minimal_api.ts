// The baseline of bench/run.ts's `api` section: what a script that needs no
// library does with a valid token. It reads the token file `login` wrote,
// makes the same request as `looker-oauth api /user` and prints the body.
// Usage: deno run <perms> bench/_minimal_api.ts TOKEN_FILE URL
const [file, url] = Deno.args;
const { tokens } = JSON.parse(Deno.readTextFileSync(file!));
const response = await fetch(url!, {
  headers: {
    accept: "application/json",
    authorization: `Bearer ${tokens.accessToken}`,
  },
});
const body = await response.text();
Deno.stdout.writeSync(new TextEncoder().encode(`${body}\n`));
if (!response.ok) Deno.exit(1);
