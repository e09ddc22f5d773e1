// --help, --version, and usage errors (exit 2), for every command.
import assert from "node:assert/strict";
import { cli, DENO_JSON, exists, lines, runCli, tempHome } from "../_cli.ts";

const COMMANDS = [
  "login",
  "token",
  "status",
  "api",
  "logout",
  "register",
  "demo",
];

Deno.test("--help for every command: exit 0, the usage on stdout, nothing else done", async () => {
  await using t = await tempHome();
  const runs = COMMANDS.flatMap((command) => [
    { command, args: [command, "--help"] },
    { command, args: [command, "-h"] },
    { command, args: ["help", command] },
  ]);
  const results = await Promise.all(
    runs.map(({ args }) => cli(args, { home: t.home })),
  );
  results.forEach((result, i) => {
    const { command, args } = runs[i]!;
    const what = args.join(" ");
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
    assert.ok(
      result.stdout.startsWith(`Usage: looker-oauth ${command}`),
      `${what}: ${result.stdout}`,
    );
    assert.equal(result.stderr, "", what);
    // Scripts branch on the exit code: every command's help says them.
    assert.match(result.stdout, /^Exit codes: 0 /m, what);
  });
  assert.equal(await exists(t.home), false, "no state written");
});

Deno.test("looker-oauth --help lists every command; with no command the overview goes to stderr with exit 2", async () => {
  await using t = await tempHome();
  const [help, bare] = await Promise.all([
    runCli(["--help"], { home: t.home }),
    runCli([], { home: t.home }),
  ]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: looker-oauth <command> \[flags\]$/m);
  for (const command of COMMANDS) {
    assert.match(help.stdout, new RegExp(`^  ${command}\\s+\\S`, "m"));
  }
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, "");
  assert.match(bare.stderr, /^Usage: looker-oauth <command>/m);
});

Deno.test("--version prints the version from deno.json", async () => {
  await using t = await tempHome();
  const version = await cli(["--version"], { home: t.home });
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `looker-oauth ${DENO_JSON.version}\n`);
});

Deno.test("usage errors exit 2 and say what is wrong on stderr", async () => {
  await using t = await tempHome();
  const cases: { args: string[]; says: RegExp[] }[] = [
    {
      args: ["logn"],
      says: [/unknown command "logn"/, /Did you mean 'looker-oauth login'\?/],
    },
    { args: ["frobnicate"], says: [/unknown command/, /--help/] },
    {
      args: ["token", "--profil", "x"],
      says: [/unknown flag --profil\b/, /did you mean --profile\?/],
    },
    { args: ["status", "--jsno"], says: [/unknown flag --jsno/] },
    { args: ["api", "/user", "--methd", "GET"], says: [/--methd/] },
    { args: ["token", "--profile"], says: [/--profile needs a value/] },
    { args: ["token", "extra"], says: [/unexpected argument: extra/] },
    { args: ["api"], says: [/which path\?/] },
    { args: ["login", "--client-id", "x"], says: [/no server/] },
    {
      args: ["login", "--looker-url", "http://127.0.0.1:9"],
      says: [/no client id/],
    },
    { args: ["register"], says: [/.+/] },
  ];
  const results = await Promise.all(
    cases.map(({ args }) => cli(args, { home: t.home })),
  );
  results.forEach((result, i) => {
    const { args, says } = cases[i]!;
    const what = args.join(" ");
    assert.equal(result.code, 2, `${what}: ${result.stderr}`);
    assert.equal(result.stdout, "", what);
    for (const pattern of says) assert.match(result.stderr, pattern, what);
    assert.ok(lines(result.stderr).length <= 3, `${what}: ${result.stderr}`);
  });
  assert.equal(await exists(t.home), false, "no state written");
});

Deno.test("every flag the overview lists for every command is accepted by each command", async () => {
  await using t = await tempHome();
  const help = await cli(["--help"], { home: t.home });
  const section = help.stdout.split("Flags for every command:\n")[1]!
    .split("\n\n")[0]!;
  const flags = section.split("\n").flatMap((line) =>
    line.trim().split(/\s{2,}/)[0]!.split(", ")
  );
  assert.ok(flags.includes("--help") && flags.includes("--debug"), section);
  // The commands that need no other flag: anything but a usage error means
  // the flag was understood.
  const runs = ["status", "token", "logout"].flatMap((command) =>
    flags.map((flag) => [command, flag])
  );
  const results = await Promise.all(
    runs.map((args) => cli(args, { home: t.home })),
  );
  results.forEach((result, i) => {
    assert.notEqual(result.code, 2, `${runs[i]!.join(" ")}: ${result.stderr}`);
  });
});

Deno.test("looker-oauth --version and -V print the version; a command given --version is a usage error", async () => {
  await using t = await tempHome();
  const [long, short, onCommand] = await Promise.all([
    cli(["--version"], { home: t.home }),
    cli(["-V"], { home: t.home }),
    cli(["token", "--version"], { home: t.home }),
  ]);
  assert.equal(long.stdout, `looker-oauth ${DENO_JSON.version}\n`);
  assert.equal(short.stdout, long.stdout);
  assert.equal(onCommand.code, 2);
  assert.equal(onCommand.stdout, "");
});

Deno.test("a usage line that spells out its flags names every flag the help documents", async () => {
  await using t = await tempHome();
  for (const command of COMMANDS) {
    const { stdout } = await cli([command, "--help"], { home: t.home });
    const usage = lines(stdout)[0]!;
    if (usage.endsWith("[flags]")) continue;
    // "  -X, --method M": either spelling may stand in the usage line.
    const documented = [
      ...stdout.matchAll(/^ {2}(?:(-\w), )?(--[a-z-]+)/gm),
    ].map((m) => [m[1], m[2]!] as const);
    assert.ok(documented.length > 0, command);
    for (const [short, long] of documented) {
      assert.ok(
        usage.includes(long) ||
          (short && new RegExp(`\\[${short}[ \\]]`).test(usage)),
        `${command}: ${long} not in ${usage}`,
      );
    }
  }
});
