// The README stays true: every looker-oauth flag it shows exists, every
// TypeScript block type-checks against this checkout, every link resolves.
import assert from "node:assert/strict";
import { ROOT_DIR } from "../_cli.ts";

const readme = await Deno.readTextFile(`${ROOT_DIR}/README.md`);
const COMMANDS = [
  "login",
  "token",
  "api",
  "status",
  "logout",
  "register",
  "demo",
];

/** The fenced blocks of one language (or several), in order. */
function blocks(...languages: string[]): string[] {
  const found: string[] = [];
  for (const m of readme.matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```$/gm)) {
    if (languages.includes(m[1]!)) found.push(m[2]!);
  }
  return found;
}

async function help(command: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", command, "--help"],
    cwd: ROOT_DIR,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, text.decode(out.stderr));
  return text.decode(out.stdout) + text.decode(out.stderr);
}

Deno.test("every looker-oauth command line in the README uses flags its --help lists", async () => {
  // Shell lines (joined across trailing backslashes) and the commands table.
  const lines = blocks("sh", "")
    .flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"))
    .concat(readme.split("\n").filter((l) => l.startsWith("| `")))
    .concat([...readme.matchAll(/`(looker-oauth [^`]+)`/g)].map((m) => m[1]!));
  const used = new Map<string, Set<string>>();
  for (const line of lines) {
    for (
      const m of line.matchAll(
        /(?:looker-oauth|^\| `)\s*(login|token|api|status|logout|register|demo)\b([^|#`]*)/g,
      )
    ) {
      const flags = used.get(m[1]!) ?? new Set<string>();
      for (
        const f of m[2]!.matchAll(/(?<=\s|\[)(--[a-z][a-z-]*|-[a-zA-Z])\b/g)
      ) {
        flags.add(f[1]!);
      }
      used.set(m[1]!, flags);
    }
  }
  assert.deepEqual(
    [...used.keys()].filter((c) => !COMMANDS.includes(c)),
    [],
  );
  assert.ok(used.size >= 6, `only ${[...used.keys()]} found in the README`);
  const unknown: string[] = [];
  for (const [command, flags] of used) {
    const text = await help(command);
    for (const flag of flags) {
      // Every command takes --help and --debug (the README says so once).
      if (flag === "--help" || flag === "--debug") continue;
      if (!new RegExp(`(^|[\\s,\\[])${flag}\\b`, "m").test(text)) {
        unknown.push(`${command} ${flag}`);
      }
    }
  }
  assert.deepEqual(unknown, []);
});

Deno.test("every TypeScript block in the README type-checks against this checkout", async () => {
  const code = blocks("ts", "typescript");
  assert.ok(code.length >= 4, `only ${code.length} TypeScript blocks`);
  // Inside the checkout, so "@looker-oauth/pkce/..." resolves to this
  // package through deno.json (JSR is not reachable here).
  const dir = await Deno.makeTempDir({ dir: ROOT_DIR, prefix: ".readme_" });
  try {
    const files = await Promise.all(code.map(async (block, i) => {
      const browser = /\bdocument\b|\/browser"/.test(block);
      const path = `${dir}/block_${i}.ts`;
      await Deno.writeTextFile(
        path,
        (browser ? '/// <reference lib="dom" />\n' : "") +
          block.replaceAll('"jsr:@looker-oauth/pkce', '"@looker-oauth/pkce'),
      );
      return path;
    }));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", ...files],
      cwd: ROOT_DIR,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const text = new TextDecoder();
    assert.equal(
      out.code,
      0,
      text.decode(out.stdout) + text.decode(out.stderr),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** GitHub's anchor for a heading. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "")
    .replaceAll(" ", "-");
}

Deno.test("the README's links reach files of this repository and its own headings", async () => {
  let inFence = false;
  const headings = new Set<string>();
  for (const line of readme.split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    else if (!inFence && /^#{1,6} /.test(line)) {
      headings.add(anchor(line.replace(/^#+ /, "")));
    }
  }
  const broken: string[] = [];
  for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^https?:/.test(target!)) continue;
    if (target!.startsWith("#")) {
      if (!headings.has(target!.slice(1))) broken.push(target!);
      continue;
    }
    const path = target!.split("#")[0]!;
    try {
      await Deno.stat(`${ROOT_DIR}/${path}`);
    } catch {
      broken.push(target!);
    }
  }
  assert.deepEqual(broken, []);
});
