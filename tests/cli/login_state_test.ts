// `login` checks that it can keep what it gets before anyone signs in: a
// token path it must not write through, a state folder on a read-only or
// full disk. Each fails at once, with exit 1, the file named and a hint, and
// no browser opened and no code exchanged.
import assert from "node:assert/strict";
import {
  hasStackTrace,
  lines,
  runCli,
  SCRIPTED_BROWSER,
  startLooker,
  tempHome,
} from "../_cli.ts";

const IS_WINDOWS = Deno.build.os === "windows";

/** Whether this machine lets the tests mount a small tmpfs (root on Linux). */
async function canMount(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = await Deno.makeTempDir();
  try {
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!mount.success) return false;
    await new Deno.Command("umount", { args: [dir] }).output();
    return true;
  } catch {
    return false;
  } finally {
    await Deno.remove(dir).catch(() => {});
  }
}
const MOUNTS = await canMount();

/** A tmpfs mounted at `<dir>/mnt` with `options`; unmounted on dispose. */
async function tmpfs(
  dir: string,
  options: string,
): Promise<{ path: string } & AsyncDisposable> {
  const path = `${dir}/mnt`;
  await Deno.mkdir(path);
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", options, "tmpfs", path],
  }).output();
  assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      await new Deno.Command("umount", { args: ["-l", path] }).output();
    },
  };
}

/** Runs a login that must fail before the browser; returns its stderr. */
async function failingLogin(home: string): Promise<string> {
  await using looker = await startLooker();
  const login = await runCli(["login", ...looker.loginArgs], {
    home,
    env: { BROWSER: SCRIPTED_BROWSER },
  });
  assert.equal(login.code, 1, login.stderr);
  assert.doesNotMatch(login.stderr, /Opening the browser/);
  assert.equal(looker.emulator.stats.authorizations, 0, "a browser signed in");
  assert.equal(looker.emulator.stats.codeExchanges, 0, "a code was exchanged");
  assert.ok(!hasStackTrace(login.stderr), login.stderr);
  assert.match(login.stderr, /^hint: /m, login.stderr);
  assert.ok(lines(login.stderr).length <= 3, login.stderr);
  return login.stderr;
}

Deno.test({
  name:
    "login with a symlinked token file fails before the browser opens, naming the file",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    await Deno.mkdir(`${t.home}/tokens`, { recursive: true, mode: 0o700 });
    await Deno.chmod(t.home, 0o700);
    await Deno.symlink(`${t.dir}/elsewhere.json`, t.tokenFile());
    const stderr = await failingLogin(t.home);
    assert.ok(stderr.includes(t.tokenFile()), stderr);
    await assert.rejects(Deno.lstat(`${t.dir}/elsewhere.json`));
  },
});

Deno.test("login where tokens/ is a file fails before the browser opens, naming it", async () => {
  await using t = await tempHome();
  await Deno.mkdir(t.home, { mode: 0o700 });
  await Deno.writeTextFile(`${t.home}/tokens`, "not a folder");
  const stderr = await failingLogin(t.home);
  assert.ok(stderr.includes(`${t.home}/tokens`), stderr);
  assert.equal(await Deno.readTextFile(`${t.home}/tokens`), "not a folder");
});

Deno.test({
  name:
    "login on a read-only file system fails before the browser opens, naming the folder and saying it is read-only",
  ignore: !MOUNTS,
  fn: async () => {
    await using t = await tempHome();
    await using mnt = await tmpfs(t.dir, "ro,size=64k");
    const home = `${mnt.path}/home`;
    const stderr = await failingLogin(home);
    assert.ok(stderr.includes(home), stderr);
    assert.match(stderr, /read-only/);
  },
});

Deno.test({
  name:
    "login on a full disk fails before the browser opens, naming the file and saying the disk is full",
  ignore: !MOUNTS,
  fn: async () => {
    await using t = await tempHome();
    await using mnt = await tmpfs(t.dir, "size=64k");
    const home = `${mnt.path}/home`;
    await Deno.mkdir(`${home}/tokens`, { recursive: true, mode: 0o700 });
    // Fill it up.
    const filler = await Deno.open(`${mnt.path}/filler`, {
      write: true,
      create: true,
    });
    try {
      const chunk = new Uint8Array(4096);
      for (;;) await filler.write(chunk);
    } catch {
      // full
    } finally {
      filler.close();
    }
    const stderr = await failingLogin(home);
    assert.ok(stderr.includes(home), stderr);
    assert.match(stderr, /full/);
  },
});
