// The Looker SDK is reachable from the looker-sdk entry point only: users of
// the core, of `.` and of the CLI never download it.
import assert from "node:assert/strict";
import { ROOT_DIR } from "../_cli.ts";

/** The npm packages in the module graph of `entry`. */
async function npmPackagesOf(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `--config=${ROOT_DIR}/deno.json`, entry],
    cwd: ROOT_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info: { modules: { specifier: string }[] } = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  return [
    ...new Set(
      info.modules.map((m) => m.specifier).filter((s) => s.startsWith("npm:")),
    ),
  ];
}

Deno.test("the core, the Deno entry point and every CLI command never load @looker/sdk", async () => {
  const commands = [...Deno.readDirSync(`${ROOT_DIR}/src/cli`)]
    .filter((e) => e.isFile && e.name.endsWith(".ts"))
    .map((e) => `src/cli/${e.name}`);
  for (const entry of ["src/core/mod.ts", "mod.ts", "cli.ts", ...commands]) {
    const npm = await npmPackagesOf(entry);
    assert.deepEqual(
      npm.filter((s) => s.includes("@looker/")),
      [],
      `${entry} loads the Looker SDK`,
    );
  }
});

Deno.test("the looker-sdk entry point loads @looker/sdk-rtl, and is in deno.json's exports", async () => {
  const npm = await npmPackagesOf("src/looker_sdk/mod.ts");
  assert.ok(npm.some((s) => s.includes("@looker/sdk-rtl@")), npm.join(", "));
  const config = JSON.parse(await Deno.readTextFile(`${ROOT_DIR}/deno.json`));
  assert.equal(config.exports["./looker-sdk"], "./src/looker_sdk/mod.ts");
  assert.match(
    config.imports["@looker/sdk-rtl"],
    /^npm:@looker\/sdk-rtl@\d+\.\d+\.\d+$/,
  );
});
