// The release workflow builds what deno.json says, for the targets it
// promises, from a tag that names the version the CLI reports.
import assert from "node:assert/strict";
import {
  compileArgs,
  sha256Sums,
  TARGETS,
  versionMismatch,
} from "../../.ci/release.ts";

const root = new URL("../../", import.meta.url);
const workflow = await Deno.readTextFile(
  new URL(".github/workflows/release.yml", root),
);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));

Deno.test("release.yml builds every promised target, with the flags of deno.json's compile task", async () => {
  const matrix = /target:\n((?:\s+- .+\n)+)/.exec(workflow)?.[1] ?? "";
  const listed = [...matrix.matchAll(/- (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(listed, [...TARGETS]);
  // The workflow never spells compile flags of its own.
  assert.doesNotMatch(workflow, /deno compile/);
  assert.match(
    workflow,
    /deno run -A \.ci\/release\.ts compile "\$\{\{ matrix\.target \}\}"/,
  );
  const task: string[] = config.tasks.compile.split(/\s+/);
  const flags = task.slice(2, -1).filter((word, i, all) =>
    word !== "--output" && all[i - 1] !== "--output"
  );
  for (const target of TARGETS) {
    const args = await compileArgs(target);
    assert.deepEqual(args.slice(0, 1 + flags.length), ["compile", ...flags]);
    assert.deepEqual(args.slice(-5), [
      "--target",
      target,
      "--output",
      `dist/looker-oauth-${target}${target.includes("windows") ? ".exe" : ""}`,
      task.at(-1),
    ]);
    assert.ok(!args.includes("-A") && !args.includes("--allow-all"));
  }
  await assert.rejects(compileArgs("sparc-sun-solaris"), RangeError);
});

Deno.test("release.yml checks the tag against deno.json's version and --version before it builds", async () => {
  assert.match(workflow, /\.ci\/release\.ts check-version "\$GITHUB_REF_NAME"/);
  assert.match(workflow, /compile:\n\s+needs: check/);
  assert.match(workflow, /jsr:\n\s+needs: check/);
  assert.equal(await versionMismatch(`v${config.version}`), undefined);
  assert.ok(await versionMismatch(`v${config.version}.1`));
  assert.ok(await versionMismatch(config.version));
});

Deno.test("release.yml publishes to JSR with an OIDC token (provenance)", () => {
  const jsr = workflow.slice(workflow.indexOf("\n  jsr:"));
  assert.match(jsr, /id-token: write/);
  assert.match(jsr, /deno publish/);
});

Deno.test("sha256Sums() writes what sha256sum -c accepts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/looker-oauth-x86_64-unknown-linux-gnu`,
      "a",
    );
    await Deno.writeTextFile(
      `${dir}/looker-oauth-x86_64-pc-windows-msvc.exe`,
      "b",
    );
    await Deno.writeTextFile(`${dir}/SHA256SUMS`, await sha256Sums(dir));
    const check = await new Deno.Command("sha256sum", {
      args: ["-c", "--strict", "SHA256SUMS"],
      cwd: dir,
      stdout: "piped",
    }).output();
    assert.ok(check.success);
    assert.equal(
      new TextDecoder().decode(check.stdout).match(/: OK$/gm)?.length,
      2,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
