// The scripted browser of the CLI's subprocess tests, as $BROWSER:
//
//   BROWSER="deno run --allow-net tests/_browser.ts"
//
// The CLI runs it with the authorization URL as the last argument; it plays
// the person (src/emulator/user_agent.ts) who signs in and approves.
// In-process tests use tests/_io.ts's scriptedPerson() instead.
import { browse } from "../src/emulator/user_agent.ts";

const target = Deno.args.at(-1);
if (!target) Deno.exit(2);
try {
  await browse(new URL(target));
} catch {
  Deno.exit(1);
}
