// `looker-oauth demo`: the whole flow against the built-in emulator, in one
// command, leaving nothing behind.
import assert from "node:assert/strict";
import { browserEnv, exists, runCli, tempHome } from "../_cli.ts";

const CASES: {
  name: string;
  args: string[];
  env: Record<string, string>;
  says: RegExp;
}[] = [
  {
    name: "demo --auto",
    args: ["demo", "--auto"],
    env: {},
    says: /No browser here \(or --auto\): playing the person/,
  },
  {
    name: "demo with no BROWSER and no DISPLAY (plays the person itself)",
    args: ["demo"],
    env: {},
    says: /No browser here \(or --auto\): playing the person/,
  },
  {
    name: "demo with a $BROWSER (the person clicks through the pages)",
    args: ["demo"],
    env: browserEnv(),
    says: /Sign in with any e-mail and password/,
  },
];

for (const { name, args, env, says } of CASES) {
  Deno.test(`${name}: exit 0, the user JSON on stdout, no temporary home left behind`, async () => {
    await using t = await tempHome();
    const tmp = `${t.dir}/tmp`;
    await Deno.mkdir(tmp);
    const demo = await runCli(args, {
      home: t.home,
      env: { ...env, TMPDIR: tmp },
    });
    assert.equal(demo.code, 0, demo.stderr);
    assert.deepEqual(JSON.parse(demo.stdout), {
      id: "1",
      display_name: "Ada Lovelace",
      email: "ada@example.com",
    });
    assert.match(demo.stderr, says);
    for (
      const step of [
        /^1\. Started a Looker emulator/m,
        /^2\. Registering the OAuth app/m,
        /^3\. Signing in/m,
        /✓ Signed in to .* as Ada Lovelace <ada@example\.com>/,
        /^4\. Calling the API/m,
        /^5\. Refreshing/m,
        /^6\. Logging out/m,
        /the old token now gets 401/,
      ]
    ) {
      assert.match(demo.stderr, step);
    }
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(tmp)),
      [],
      "the temporary home is gone",
    );
    assert.equal(await exists(t.home), false, "LOOKER_OAUTH_HOME untouched");
  });
}

Deno.test("demo --home DIR keeps its state there, and the tokens are gone after its logout", async () => {
  await using t = await tempHome();
  const dir = `${t.dir}/demo-home`;
  const demo = await runCli(["demo", "--auto", "--home", dir], {
    home: t.home,
  });
  assert.equal(demo.code, 0, demo.stderr);
  assert.ok(await exists(`${dir}/config.json`));
  assert.equal(await exists(`${dir}/tokens/default.json`), false);
});
