// The purity check (.ci/core.deno.json) type-checks the pure folders with
// their own import map; it must name the very dependency versions the build
// uses, or CI would check one oauth4webapi and ship another.
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

async function imports(path: string): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL(path, root)));
  return config.imports ?? {};
}

Deno.test("the purity check's import map pins the same exact versions as deno.json", async () => {
  const build = await imports("deno.json");
  const purity = await imports(".ci/core.deno.json");
  assert.ok(Object.keys(purity).length > 0);
  for (const [name, specifier] of Object.entries(purity)) {
    assert.equal(specifier, build[name], name);
    assert.match(specifier, /^npm:(?:@[^/]+\/)?[^@]+@\d+\.\d+\.\d+$/, name);
  }
});
