// A fresh machine that runs the README's first command downloads only the
// npm packages the CLI's own module graph reaches: not the test-only
// oidc-provider, playwright-core or fast-check the lock file also pins.
import assert from "node:assert/strict";

const deno = Deno.execPath();
const root = new URL("../../", import.meta.url);

interface DenoInfo {
  modules: { specifier: string }[];
  npmPackages: Record<string, { name: string; dependencies: string[] }>;
}

/** The npm packages (name only) that `entry`'s module graph loads. */
async function graphPackages(entry: string): Promise<string[]> {
  const out = await new Deno.Command(deno, {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "deno info failed");
  const info: DenoInfo = JSON.parse(new TextDecoder().decode(out.stdout));
  const seen = new Set<string>();
  const queue = info.modules
    .map((m) => /^npm:\/?(.+)$/.exec(m.specifier)?.[1])
    .filter((id): id is string => id !== undefined)
    // "oauth4webapi@3.8.8/sub/path" → "oauth4webapi@3.8.8"
    .map((id) => id.replace(/^((?:@[^/]+\/)?[^/@]+@[^/]+).*$/, "$1"));
  while (queue.length) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(info.npmPackages[id]?.dependencies ?? []));
  }
  return [...seen].map((id) => info.npmPackages[id]?.name ?? id).sort();
}

/** The README's first command, as the arguments given to `deno`. */
async function readmeDemoArgs(): Promise<string[]> {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const block = /```sh\n([^`]*)```/.exec(readme)?.[1] ?? "";
  const first = block.split("\n")[0]!.replace(/\s+#.*$/, "").trim();
  const m = /^npx -y deno@[\d.]+ (.+)$/.exec(first);
  assert.ok(m, `README's first command is not an npx deno command: ${first}`);
  // Shell quoting (zsh globs an unquoted "[::1]") is not part of the argument.
  return m[1]!.split(/\s+/).map((arg) => arg.replace(/^'(.*)'$/, "$1"));
}

Deno.test("the README's demo command on a fresh machine fetches only the CLI's own npm packages", async () => {
  const args = await readmeDemoArgs();
  // `deno task` installs every package of the lock file before it runs
  // anything; `deno run` (with npm-lazy-caching) fetches what it loads.
  assert.equal(args[0], "run");
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  );
  assert.equal(config.tasks.demo, `deno ${args.join(" ")}`);
  assert.ok(!args.includes("-A") && !args.includes("--allow-all"));
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-fresh-" });
  try {
    const run = await new Deno.Command(deno, {
      // --auto: the demo plays the person even where a browser is at hand.
      args: [...args, "--auto", "--home", `${dir}/home`],
      cwd: root,
      env: { DENO_DIR: `${dir}/deno`, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    const fetched: string[] = [];
    for await (
      const scope of Deno.readDir(`${dir}/deno/npm/registry.npmjs.org`)
    ) {
      if (!scope.name.startsWith("@")) {
        fetched.push(scope.name);
        continue;
      }
      for await (
        const pkg of Deno.readDir(
          `${dir}/deno/npm/registry.npmjs.org/${scope.name}`,
        )
      ) fetched.push(`${scope.name}/${pkg.name}`);
    }
    assert.deepEqual(fetched.sort(), await graphPackages("cli.ts"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
