/**
 * The release's own steps, kept here so that the workflow in
 * `.github/workflows/release.yml` and the tests share one definition:
 *
 * - `deno run -A .ci/release.ts check-version TAG`: the tag (`v1.2.3`),
 *   `deno.json`'s version and the CLI's `--version` agree, else exit 1.
 * - `deno run -A .ci/release.ts compile TARGET [--dry-run]`: builds the
 *   executable for one target with exactly the flags of `deno.json`'s
 *   `compile` task, plus `--target` and an output name per target.
 * - `deno run -A .ci/release.ts sums DIR`: writes `DIR/SHA256SUMS`.
 *
 * @module
 */
// deno-lint-ignore-file no-console

/** The targets a release ships, as `deno compile --target` spells them. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

const root = new URL("../", import.meta.url);

interface DenoJson {
  version: string;
  tasks: Record<string, string>;
}

async function denoJson(): Promise<DenoJson> {
  return JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
}

/**
 * The `deno` arguments that build `target`: the `compile` task's own
 * flags, with `--target` and a per-target `--output` before the entry point.
 */
export async function compileArgs(target: string): Promise<string[]> {
  if (!(TARGETS as readonly string[]).includes(target)) {
    throw new RangeError(`unknown target ${target}: one of ${TARGETS}`);
  }
  const task = (await denoJson()).tasks.compile;
  if (!task) throw new Error("deno.json has no compile task");
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "compile") {
    throw new Error(`the compile task is not a deno compile: ${task}`);
  }
  const entry = words.at(-1)!;
  const flags: string[] = [];
  for (let i = 2; i < words.length - 1; i++) {
    const word = words[i]!;
    // The task's own output is replaced by one name per target.
    if (word === "--output" || word === "-o") i++;
    else if (!word.startsWith("--output=")) flags.push(word);
  }
  const exe = target.includes("windows") ? ".exe" : "";
  return [
    "compile",
    ...flags,
    "--target",
    target,
    "--output",
    `dist/looker-oauth-${target}${exe}`,
    entry,
  ];
}

/**
 * The `--allow-*` flags of `deno.json`'s `compile` task: the permissions the
 * executable gets, which the CLI's tests and benchmarks run `cli.ts` with.
 */
export async function compilePermissions(): Promise<string[]> {
  const task = (await denoJson()).tasks.compile ?? "";
  const flags = task.split(/\s+/).filter((word) => word.startsWith("--allow-"));
  if (flags.length === 0) {
    throw new Error("deno.json's compile task names no --allow-* flag");
  }
  return flags;
}

/** Why `tag` cannot be released from this tree, or undefined when it can. */
export async function versionMismatch(
  tag: string,
): Promise<string | undefined> {
  const { version } = await denoJson();
  if (tag !== `v${version}`) {
    return `tag ${tag} does not name deno.json's version ${version} (v${version})`;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "cli.ts", "--version"],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const printed = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !printed.split(/\s+/).includes(version)) {
    return `looker-oauth --version prints "${printed}", not ${version}`;
  }
  return undefined;
}

/** `SHA256SUMS` for every file in `dir`, in `sha256sum`'s format. */
export async function sha256Sums(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name !== "SHA256SUMS") names.push(entry.name);
  }
  const lines: string[] = [];
  for (const name of names.sort()) {
    const bytes = await Deno.readFile(`${dir}/${name}`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0"))
      .join("");
    lines.push(`${hex}  ${name}`);
  }
  return lines.map((line) => `${line}\n`).join("");
}

if (import.meta.main) {
  const [command, arg, option] = Deno.args;
  if (command === "check-version" && arg) {
    const wrong = await versionMismatch(arg);
    if (wrong) {
      console.error(`release: ${wrong}`);
      Deno.exit(1);
    }
    console.log(`release: ${arg} = deno.json = --version`);
  } else if (command === "compile" && arg) {
    const args = await compileArgs(arg);
    console.log(`deno ${args.join(" ")}`);
    if (option !== "--dry-run") {
      const status = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: root,
      }).spawn().status;
      Deno.exit(status.code);
    }
  } else if (command === "sums" && arg) {
    await Deno.writeTextFile(`${arg}/SHA256SUMS`, await sha256Sums(arg));
  } else {
    console.error(
      "usage: release.ts check-version TAG | compile TARGET [--dry-run] | sums DIR",
    );
    Deno.exit(2);
  }
}
