import assert from "node:assert/strict";
import {
  cleanEnv,
  PERMISSIONS,
  ROOT_DIR,
  SCRIPTED_BROWSER,
  startLooker,
  tempHome,
} from "../_cli.ts";

async function runExample(
  home: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--config=${ROOT_DIR}/deno.json`,
      // The CLI's permission set, but the example reads its own variables.
      ...PERMISSIONS.map((flag) =>
        flag.startsWith("--allow-env=") ? "--allow-env" : flag
      ),
      `${ROOT_DIR}/examples/looker_user.ts`,
    ],
    clearEnv: true,
    env: cleanEnv(home, env),
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

Deno.test("examples/looker_user.ts signs in once, then reuses and refreshes the tokens", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const env = {
    LOOKER_URL: looker.emulator.lookerUrl,
    LOOKER_API_URL: looker.emulator.apiUrl,
    LOOKER_CLIENT_ID: looker.clientId,
    LOOKER_REDIRECT_URI: looker.redirectUri,
    BROWSER: SCRIPTED_BROWSER,
  };
  const first = await runExample(t.home, env);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), {
    display_name: "Ada Lovelace",
    email: "ada@example.com",
    id: "1",
  });
  assert.equal(looker.emulator.stats.codeExchanges, 1);

  // Second run: no browser at all, the stored tokens are enough.
  const second = await runExample(t.home, { ...env, BROWSER: "false" });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(looker.emulator.stats.codeExchanges, 1);

  // Expired on the server: the session refreshes once, no new sign-in.
  looker.emulator.expireAccessTokens();
  const third = await runExample(t.home, { ...env, BROWSER: "false" });
  assert.equal(third.code, 0, third.stderr);
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(looker.emulator.stats.codeExchanges, 1);
});
