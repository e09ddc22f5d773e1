// The CLI under deno.json's permission set (the compile task's flags, which
// README, deno install and the release use), narrowed further: read only
// the state folder and the working directory, write only the state folder,
// read only the environment variables it names.
import assert from "node:assert/strict";
import {
  exists,
  expireTokenFile,
  PERMISSIONS,
  readTokenFile,
  ROOT_DIR,
  runCli,
  SCRIPTED_BROWSER,
  startLooker,
  tempHome,
} from "../_cli.ts";

Deno.test("login → token (with a refresh) → api → status → logout with read and write narrowed to the state folder and the working directory", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { emulator } = looker;
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { home: t.home, env, narrow: true });

  const login = await run(["login", ...looker.loginArgs], {
    BROWSER: SCRIPTED_BROWSER,
  });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stderr, /Signed in to .* as Ada Lovelace/);

  const before = await expireTokenFile(t.tokenFile());
  const token = await run(["token"]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(emulator.stats.refreshes, 1);
  const after = await readTokenFile(t.tokenFile());
  assert.notEqual(after.tokens.accessToken, before.tokens.accessToken);
  assert.equal(token.stdout, `${after.tokens.accessToken}\n`);

  const api = await run(["api", "/user"]);
  assert.equal(api.code, 0, api.stderr);
  assert.equal(JSON.parse(api.stdout).email, "ada@example.com");

  const status = await run(["status", "--json"]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).signedIn, true);

  const logout = await run(["logout"]);
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(emulator.stats.logouts, 1);
  assert.equal(await exists(t.tokenFile()), false);
  for (const result of [login, token, api, status, logout]) {
    assert.doesNotMatch(result.stderr, /Requires \w+ access|NotCapable/);
  }
});

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("--allow-env names every environment variable the CLI's code reads", async () => {
  const flag = PERMISSIONS.find((p) => p.startsWith("--allow-env")) ?? "";
  assert.ok(flag.startsWith("--allow-env="), "narrowed to names");
  const allowed = new Set(flag.slice("--allow-env=".length).split(","));
  const read = new Set<string>();
  // What the CLI loads: its own folder and the ones it imports from. Names
  // are read as env("NAME") / Deno.env.get("NAME"), or listed as values of
  // a settings table ({ apiUrl: "LOOKER_OAUTH_API_URL" }).
  const patterns = [
    /(?:env|get)\(\s*"([A-Z][A-Z0-9_]+)"\s*\)/g,
    /:\s*"((?:LOOKER_OAUTH|LOOKERSDK)_[A-Z_]+)"/g,
  ];
  for (const folder of ["cli", "store", "loopback", "looker", "core"]) {
    for await (const file of sources(`${ROOT_DIR}/src/${folder}`)) {
      // Code only: JSDoc examples show other programs' variables.
      const text = (await Deno.readTextFile(file)).split("\n")
        .filter((line) => !/^\s*(?:\*|\/\/)/.test(line)).join("\n");
      for (const pattern of patterns) {
        for (const [, name] of text.matchAll(pattern)) read.add(name!);
      }
    }
  }
  assert.ok(
    read.has("LOOKER_OAUTH_HOME") && read.has("BROWSER"),
    [...read].join(),
  );
  assert.deepEqual([...read].filter((name) => !allowed.has(name)).sort(), []);
});
