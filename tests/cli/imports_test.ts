// Every import the package makes is one Deno can analyse: `deno publish`,
// `deno compile` (no --include) and a narrowed --allow-read see it all.
import assert from "node:assert/strict";
import { DENO_JSON, ROOT_DIR } from "../_cli.ts";

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("no dynamic import() in the package has a computed specifier", async () => {
  const computed: string[] = [];
  const files = [`${ROOT_DIR}/cli.ts`, `${ROOT_DIR}/mod.ts`];
  for await (const file of sources(`${ROOT_DIR}/src`)) files.push(file);
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    // Outside comments: a call `import(` whose argument is not a string literal.
    const code = text.replace(/\/\*[^]*?\*\//g, "").replace(
      /^\s*\/\/.*$/gm,
      "",
    );
    for (const match of code.matchAll(/\bimport\(\s*([^)\s][^)]{0,40})/g)) {
      if (!/^["'`][^"'`$]*["'`]\s*$/.test(match[1]!.split(",")[0]!)) {
        computed.push(`${file.slice(ROOT_DIR.length + 1)}: import(${match[1]}`);
      }
    }
  }
  assert.deepEqual(computed, []);
});

Deno.test("the compile task embeds the CLI without --include", () => {
  const compile = DENO_JSON.tasks.compile ?? "";
  assert.match(compile, /^deno compile /);
  assert.doesNotMatch(compile, /--include/);
});
