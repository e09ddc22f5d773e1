import assert from "node:assert/strict";
import {
  cleanEnv,
  expireTokenFile,
  ROOT_DIR,
  signIn,
  startLooker,
  tempHome,
} from "../_cli.ts";

async function runExample(
  home: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--config=${ROOT_DIR}/deno.json`,
      // The permissions its header comment gives.
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `${ROOT_DIR}/examples/looker_sdk.ts`,
      ...args,
    ],
    clearEnv: true,
    env: cleanEnv(home),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
}

Deno.test("examples/looker_sdk.ts prints the user through Looker40SDK on the CLI's sign-in, refreshing once", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const first = await runExample(t.home);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), {
    id: "1",
    display_name: "Ada Lovelace",
    email: "ada@example.com",
  });
  assert.equal(first.stderr, "");
  assert.equal(looker.emulator.stats.refreshes, 0);

  await expireTokenFile(t.tokenFile());
  const second = await runExample(t.home, ["default"]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(looker.emulator.stats.refreshes, 1);
});
