// The install paths the README gives, run here the way a user runs them
// (from this checkout instead of JSR, which this machine cannot reach), with
// exactly the permission set of deno.json's compile task.
import assert from "node:assert/strict";
import { DENO_JSON, PERMISSIONS, ROOT_DIR } from "../_cli.ts";

const deno = Deno.execPath();
const readme = await Deno.readTextFile(`${ROOT_DIR}/README.md`);
const DENO_VERSION = /npx -y deno@([\d.]+) /.exec(readme)?.[1];

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(command, {
    args,
    cwd: ROOT_DIR,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(180_000),
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

Deno.test("the README's install commands use deno.json's permission set, never -A", () => {
  const perms = PERMISSIONS.join(" ");
  assert.ok(readme.includes(
    `deno install -g -n looker-oauth ${perms} jsr:@looker-oauth/pkce/cli`,
  ));
  assert.ok(readme.includes(
    `npx -y deno@${DENO_VERSION} run ${perms} jsr:@looker-oauth/pkce/cli`,
  ));
  assert.doesNotMatch(readme, /deno (?:run|install|compile)[^\n]* -A\b/);
});

Deno.test("deno install -g with the permission set gives a looker-oauth command that runs the demo", async () => {
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-install-" });
  try {
    const install = await run(deno, [
      "install",
      "-g",
      "-n",
      "looker-oauth",
      ...PERMISSIONS,
      "--root",
      dir,
      // From JSR, the package's own deno.json maps its imports; from a
      // checkout, --config does (without it: "oauth4webapi" not a dependency).
      "--config",
      `${ROOT_DIR}/deno.json`,
      `${ROOT_DIR}/cli.ts`,
    ]);
    assert.equal(install.code, 0, install.stderr);
    const bin = `${dir}/bin/looker-oauth`;
    const version = await run(bin, ["--version"]);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, new RegExp(`\\b${DENO_JSON.version}\\b`));
    const demo = await run(bin, ["demo", "--auto", "--home", `${dir}/home`], {
      HOME: dir,
    });
    assert.equal(demo.code, 0, demo.stderr);
    assert.equal(JSON.parse(demo.stdout).email, "ada@example.com");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npx -y deno@VERSION run with the permission set runs the CLI on a machine with only Node.js", async () => {
  assert.ok(DENO_VERSION, "the README names no npx deno@VERSION");
  const npx = await run("npx", [
    "-y",
    `deno@${DENO_VERSION}`,
    "run",
    ...PERMISSIONS,
    `${ROOT_DIR}/cli.ts`,
    "--version",
  ]);
  assert.equal(npx.code, 0, npx.stderr);
  assert.match(npx.stdout, new RegExp(`\\b${DENO_JSON.version}\\b`));
});
