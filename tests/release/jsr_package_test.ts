// What JSR users get: the package's files, its entry points' docs and the
// examples in them, checked with the same deno commands JSR itself runs.
import assert from "node:assert/strict";
import { ROOT_DIR } from "../_cli.ts";

const deno = Deno.execPath();
const EXPORTS: Record<string, string> = JSON.parse(
  await Deno.readTextFile(`${ROOT_DIR}/deno.json`),
).exports;
const ENTRY_POINTS = Object.values(EXPORTS).map((p) => p.replace(/^\.\//, ""));
/** What a package page shows besides the code. */
const DOCUMENTS = ["README.md", "CHANGELOG.md", "LICENSE", "deno.json"];

async function deno_(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(deno, {
    args,
    cwd: ROOT_DIR,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

/** The repository's own modules that the entry points load, statically or by type. */
async function reachableModules(): Promise<Set<string>> {
  const found = new Set<string>();
  for (const entry of ENTRY_POINTS) {
    const out = await deno_(["info", "--json", entry]);
    assert.equal(out.code, 0, out.stderr);
    const graph: { modules: { specifier: string }[] } = JSON.parse(out.stdout);
    for (const { specifier } of graph.modules) {
      if (specifier.startsWith(`file://${ROOT_DIR}/`)) {
        found.add(specifier.slice(`file://${ROOT_DIR}/`.length));
      }
    }
  }
  return found;
}

Deno.test("deno publish ships exactly the modules the exports load, the README, CHANGELOG, LICENSE and deno.json", async () => {
  const out = await deno_(["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(out.code, 0, out.stderr);
  const published = new Set(
    [...(out.stdout + out.stderr).matchAll(/file:\/\/(\S+) \(/g)].map((m) =>
      m[1]!.slice(ROOT_DIR.length + 1)
    ),
  );
  assert.ok(published.size > 0, "the dry run listed no files");
  const expected = new Set([...DOCUMENTS, ...await reachableModules()]);
  assert.deepEqual(
    [...published].filter((f) => !expected.has(f)).sort(),
    [],
    "published but no entry point loads it (a test, benchmark, example or dead module)",
  );
  assert.deepEqual(
    [...expected].filter((f) => !published.has(f)).sort(),
    [],
    "an entry point loads it but the package leaves it out",
  );
});

Deno.test("every entry point in deno.json's exports has @module docs and passes deno doc --lint", async () => {
  assert.ok(ENTRY_POINTS.length >= 7, ENTRY_POINTS.join(", "));
  const lint = await deno_(["doc", "--lint", ...ENTRY_POINTS]);
  assert.equal(lint.code, 0, lint.stdout + lint.stderr);
  for (const entry of ENTRY_POINTS) {
    const out = await deno_(["doc", "--json", entry]);
    assert.equal(out.code, 0, out.stderr);
    const doc: { nodes: Record<string, { module_doc?: { doc?: string } }> } =
      JSON.parse(out.stdout);
    const moduleDoc = doc.nodes[`file://${ROOT_DIR}/${entry}`]?.module_doc;
    assert.ok(moduleDoc?.doc?.trim(), `${entry} has no @module summary`);
  }
});

/** Every ```ts block of the JSDoc in a shipped file, with its attributes. */
function examples(
  path: string,
): { path: string; where: string; attributes: string; code: string }[] {
  const text = Deno.readTextFileSync(`${ROOT_DIR}/${path}`);
  const found = [];
  const block =
    /^\s*\* ```(?:ts|typescript)([^\n]*)\n([\s\S]*?)^\s*\* ```\s*$/gm;
  for (const m of text.matchAll(block)) {
    found.push({
      path,
      where: `${path}:${text.slice(0, m.index).split("\n").length}`,
      attributes: m[1]!.trim(),
      code: m[2]!.replace(/^\s*\* ?/gm, ""),
    });
  }
  return found;
}

function* shippedFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(`${ROOT_DIR}/${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* shippedFiles(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

Deno.test("every example that deno test --doc runs checks its outcome instead of only printing it", () => {
  const all = ["mod.ts", "cli.ts", ...shippedFiles("src")].flatMap(examples);
  const run = all.filter((e) => !/\bignore\b/.test(e.attributes));
  assert.ok(run.length >= 20, `only ${run.length} runnable examples found`);
  // A type-only example (it declares a value of an exported type) proves
  // itself by type-checking; anything else must assert or throw.
  const typeOnly = (code: string) =>
    /^import type /m.test(code) && !/^import (?!type )/m.test(code);
  const unchecked = run.filter((e) =>
    !typeOnly(e.code) && !/\bassert\b|\bthrow new\b/.test(e.code)
  ).map((e) => e.where);
  assert.deepEqual(unchecked, []);
  const printing = run.filter((e) => /\bconsole\.log\(/.test(e.code)).map((
    e,
  ) => e.where);
  assert.deepEqual(printing, [], "an example prints its result: assert it");
});

Deno.test("every example deno test --doc skips (ignore: it needs a person, a server or a page) still type-checks", async () => {
  const skipped = ["mod.ts", "cli.ts", ...shippedFiles("src")].flatMap(examples)
    .filter((e) => /\bignore\b/.test(e.attributes));
  assert.ok(skipped.length >= 20, `only ${skipped.length} found`);
  // Inside the checkout, so "@looker-oauth/pkce/..." resolves to this
  // package through deno.json; "./x.ts" is the documented file's neighbour.
  const dir = await Deno.makeTempDir({ dir: ROOT_DIR, prefix: ".examples_" });
  try {
    const files = await Promise.all(skipped.map(async (e, i) => {
      const folder = `file://${ROOT_DIR}/${e.path.replace(/[^/]*$/, "")}`;
      const page = e.path.startsWith("src/browser/") ||
        /\b(document|localStorage)\b/.test(e.code);
      const file = `${dir}/example_${i}.ts`;
      await Deno.writeTextFile(
        file,
        `// ${e.where}\n${page ? '/// <reference lib="dom" />\n' : ""}` +
          e.code.replace(/from "\.\/([^"]+)"/g, `from "${folder}$1"`),
      );
      return file;
    }));
    const out = await deno_(["check", ...files]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
