// `looker-oauth demo`: the whole flow against the built-in emulator, in one
// command, leaving nothing behind.
import assert from "node:assert/strict";
import { parseDemo } from "../../src/cli/demo.ts";
import { assertParses, cli, exists, runCli, tempHome } from "../_cli.ts";
import { type Person, scriptedPerson } from "../_io.ts";

Deno.test("parseDemo() reads --auto, --home and --timeout", () => {
  assertParses(parseDemo, "demo", [
    [[], { auto: false, home: undefined, timeoutSec: 300 }],
    [["--auto", "--home", "/tmp/d", "--timeout", "5"], {
      auto: true,
      home: "/tmp/d",
      timeoutSec: 5,
    }],
    [["--timeout", "0"], /--timeout/],
    [["--timeout", "soon"], /--timeout/],
    [["--homr", "x"], /did you mean --home\?/],
  ]);
});

const CASES: {
  name: string;
  args: string[];
  person?: Person;
  /** Run as a process (the first thing a new user runs). */
  process?: boolean;
  says: RegExp;
}[] = [
  {
    name: "demo --auto",
    args: ["demo", "--auto"],
    process: true,
    says: /No browser here \(or --auto\): playing the person/,
  },
  {
    name: "demo with no BROWSER and no DISPLAY (plays the person itself)",
    args: ["demo"],
    says: /No browser here \(or --auto\): playing the person/,
  },
  {
    name: "demo with a $BROWSER (the person clicks through the pages)",
    args: ["demo"],
    person: scriptedPerson(),
    says: /Sign in with any e-mail and password/,
  },
];

for (const { name, args, person, process, says } of CASES) {
  Deno.test(`${name}: exit 0, the user JSON on stdout, no temporary home left behind`, async () => {
    await using t = await tempHome();
    const tmp = `${t.dir}/tmp`;
    await Deno.mkdir(tmp);
    const demo = await (process ? runCli : cli)(args, {
      home: t.home,
      env: { TMPDIR: tmp },
      ...(person ? { person } : {}),
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
  const demo = await cli(["demo", "--auto", "--home", dir], {
    home: t.home,
  });
  assert.equal(demo.code, 0, demo.stderr);
  assert.ok(await exists(`${dir}/config.json`));
  assert.equal(await exists(`${dir}/tokens/default.json`), false);
});
