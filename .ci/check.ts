// The project's whole check, run by `deno task ci` (and so by .ci/run):
// fmt, lint, type checks, core purity, tests, doc lint, publish dry run,
// and a quick benchmark pass that prints the figures. Every step runs even after a failure, so one run
// shows everything; the last line is "N passed, N failed" from the tests.
// deno-lint-ignore-file no-console

const deno = Deno.execPath();
const env = { NO_COLOR: "1" };

interface Step {
  name: string;
  args: string[];
  /** Runs before the command; a message it returns fails the step. */
  before?: () => string | undefined;
  /** Reads the captured output; a message it returns fails the step. */
  verify?: (output: string) => string | undefined;
  capture?: boolean;
}

let summary: { passed: number; failed: number } | undefined;

/** Every entry point users import: deno.json's exports, so the list cannot drift. */
const ENTRY_POINTS: string[] = Object.values(
  (JSON.parse(Deno.readTextFileSync("deno.json")) as {
    exports: Record<string, string>;
  }).exports,
).map((path) => path.replace(/^\.\//, ""));

/**
 * The pure folders: Web platform only, type-checked without Deno's types.
 * Each may import itself, oauth4webapi, and the folders listed with it.
 */
const PURE: Record<string, string[]> = {
  "src/core": [],
  "src/browser": ["src/core"],
  "src/server": ["src/core"],
};
/** Where the shipped code's JSDoc examples live. */
const DOC_SOURCES = ["mod.ts", "cli.ts", "src/"];

const steps: Step[] = [
  { name: "format", args: ["fmt", "--check"] },
  { name: "lint", args: ["lint"] },
  {
    name: "type check (every entry point, tests, benchmarks, examples)",
    args: [
      "check",
      "mod.ts",
      "cli.ts",
      "src/",
      "tests/",
      "bench/",
      "examples/",
    ],
  },
  {
    name: `purity of ${
      Object.keys(PURE).join(", ")
    }: type-checks with only esnext + dom libs (no Deno types)`,
    args: [
      "check",
      "--config",
      ".ci/core.deno.json",
      "--no-lock",
      ...Object.keys(PURE).map((dir) => `${dir}/mod.ts`),
    ],
    before: () => {
      const found = corePurity();
      if (found) {
        return `a pure folder uses something other than the Web platform:\n${found}`;
      }
      console.log(
        `${
          Object.keys(PURE).join(", ")
        }: no Deno.*, node:, require() or foreign imports`,
      );
      return undefined;
    },
  },
  {
    name: "tests",
    // --doc: every @example in the shipped code type-checks and runs.
    args: ["test", "-A", "--parallel", "--doc", "tests/", ...DOC_SOURCES],
    capture: true,
    verify: (output) => {
      const m = /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(
        output,
      );
      if (!m) return "the test run printed no summary";
      summary = { passed: Number(m[1]), failed: Number(m[2]) };
      return undefined;
    },
  },
  {
    name: "doc lint (public entry points)",
    args: ["doc", "--lint", ...ENTRY_POINTS],
  },
  { name: "publish dry run", args: ["publish", "--dry-run", "--allow-dirty"] },
  {
    // Informational: prints the figures against their targets; fails only
    // when a benchmark itself breaks, never on noise.
    name: "benchmarks (quick)",
    args: ["run", "-A", "bench/run.ts", "--quick"],
  },
];

function corePurity(): string | undefined {
  const offenders: string[] = [];
  for (const [dir, allowed] of Object.entries(PURE)) {
    for (const entry of walk(dir)) {
      offenders.push(...impurities(entry, allowed));
    }
  }
  return offenders.length ? offenders.join("\n") : undefined;
}

function impurities(entry: string, allowed: string[]): string[] {
  const offenders: string[] = [];
  const text = Deno.readTextFileSync(entry);
  text.split("\n").forEach((line, i) => {
    // Comments are not code: JSDoc lines (examples may show Deno apps that
    // use the module) and the rest of a line after "//".
    const code = /^\s*(?:\*|\/\*)/.test(line)
      ? ""
      : line.replace(/\/\/.*$/, "");
    if (
      /\bDeno\./.test(code) || /["']node:/.test(code) ||
      /\brequire\(/.test(code)
    ) {
      offenders.push(`${entry}:${i + 1}: ${line.trim()}`);
    }
  });
  // Real import/export lines only (not JSDoc examples, which start with "*").
  const importLine = /^(?:import|export|\})[^*\n]*?from\s+["']([^"']+)["']/gm;
  const dynamic = /^[^*\n]*\bimport\(\s*["']([^"']+)["']/gm;
  const folder = entry.slice(0, entry.lastIndexOf("/"));
  for (const m of [...text.matchAll(importLine), ...text.matchAll(dynamic)]) {
    const spec = m[1]!;
    const target = spec.startsWith(".")
      ? new URL(spec, `file:///${folder}/`).pathname.slice(1)
      : undefined;
    const ok = spec === "oauth4webapi" ||
      (target !== undefined &&
        [folder.split("/").slice(0, 2).join("/"), ...allowed].some((dir) =>
          target.startsWith(`${dir}/`)
        ));
    if (!ok) {
      offenders.push(
        `${entry}: imports ${spec} (it may import only oauth4webapi, its own folder${
          allowed.length ? ` and ${allowed.join(", ")}` : ""
        })`,
      );
    }
  }
  return offenders;
}

function* walk(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

const failures: string[] = [];

for (const step of steps) {
  console.log(`\n▶ ${step.name}: deno ${step.args.join(" ")}`);
  const refused = step.before?.();
  if (refused) {
    console.log(refused);
    failures.push(step.name);
  }
  const child = new Deno.Command(deno, {
    args: step.args,
    env,
    stdout: step.capture ? "piped" : "inherit",
    stderr: "inherit",
  }).spawn();
  let output = "";
  if (step.capture) {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      output += text;
      await Deno.stdout.write(chunk);
    }
  }
  const status = await child.status;
  const problem = step.verify?.(output);
  if (problem) console.log(problem);
  if ((!status.success || problem) && !failures.includes(step.name)) {
    failures.push(step.name);
  }
}

console.log("");
if (failures.length) console.log(`failed steps: ${failures.join("; ")}`);
else console.log("every step passed");
if (!summary) {
  console.log("the test run printed no summary");
  console.log("0 passed, 1 failed");
  Deno.exit(1);
}
console.log(`${summary.passed} passed, ${summary.failed} failed`);
Deno.exit(failures.length || summary.failed ? 1 : 0);
