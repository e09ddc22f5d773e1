// Token files that are not what they should be, and the profile's lock held
// by a process that does not let go: `token`, `api` and `status` end, with
// one line that says why, instead of hanging, crashing or waiting forever.
import assert from "node:assert/strict";
import {
  cli,
  expireTokenFile,
  hasStackTrace,
  lines,
  readTokenFile,
  runCli,
  signIn,
  spawnCli,
  startLooker,
  tempHome,
} from "../_cli.ts";

const IS_WINDOWS = Deno.build.os === "windows";

/** Whether `pid` holds an flock on inode `ino` (Linux's /proc/locks). */
async function holdsFlock(pid: number, ino: number): Promise<boolean> {
  const text = await Deno.readTextFile("/proc/locks");
  return text.split("\n").some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === "FLOCK" && fields[4] === String(pid) &&
      fields[5]?.endsWith(`:${ino}`) === true;
  });
}

/** Runs `token` and fails (killing it) if it has not ended within `ms`. */
async function tokenWithin(home: string, ms: number) {
  await using child = spawnCli(["token"], { home });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    child.result(),
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
    }),
  ]).finally(() => clearTimeout(timer));
  if (outcome === "timeout") assert.fail(`token still running after ${ms} ms`);
  return outcome;
}

Deno.test({
  name:
    "a FIFO at the token file's path: token and status end at once as signed out (exit 3), one line about the file",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    await using looker = await startLooker();
    await signIn(t, looker);
    await Deno.remove(t.tokenFile());
    const made = await new Deno.Command("mkfifo", {
      args: ["-m", "600", t.tokenFile()],
    }).output();
    assert.equal(made.code, 0);
    const token = await tokenWithin(t.home, 10_000);
    assert.equal(token.code, 3, token.stderr);
    assert.equal(token.stdout, "");
    const about = lines(token.stderr).filter((l) => l.includes(t.tokenFile()));
    assert.equal(about.length, 1, token.stderr);
    const status = await cli(["status", "--json"], { home: t.home });
    assert.equal(status.code, 3, status.stderr);
    assert.equal(JSON.parse(status.stdout).signedIn, false);
  },
});

const OUT_OF_RANGE: Record<string, (tokens: Record<string, unknown>) => void> =
  {
    "an expiry of 1e300": (tokens) => {
      tokens.expiresAt = 1e300;
    },
    "an access token with a terminal escape": (tokens) => {
      tokens.accessToken = "abc\u001b]2;owned\u0007";
    },
    "a refresh token that is a number": (tokens) => {
      tokens.refreshToken = 42;
    },
  };

for (const [what, change] of Object.entries(OUT_OF_RANGE)) {
  Deno.test(`a token file with ${what}: token, status and api say signed out (exit 3), no crash, nothing printed raw`, async () => {
    await using t = await tempHome();
    await using looker = await startLooker();
    await signIn(t, looker);
    const file = await readTokenFile(t.tokenFile()) as unknown as {
      tokens: Record<string, unknown>;
    };
    change(file.tokens);
    await Deno.writeTextFile(t.tokenFile(), JSON.stringify(file));
    for (
      const args of [["token"], ["status"], ["status", "--json"], [
        "api",
        "/user",
      ]]
    ) {
      const run = await cli(args, { home: t.home });
      assert.equal(run.code, 3, `${args.join(" ")}: ${run.stderr}`);
      assert.ok(!hasStackTrace(run.stderr), run.stderr);
      assert.ok(!(run.stdout + run.stderr).includes("\u001b"), "raw ESC");
      const about = lines(run.stderr).filter((l) => l.includes(t.tokenFile()));
      assert.equal(about.length, 1, `${args.join(" ")}: ${run.stderr}`);
    }
    assert.equal(looker.emulator.stats.refreshes, 0);
  });
}

Deno.test("a token file over 1 MiB reads as signed out (exit 3), without reading it all", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  await Deno.writeTextFile(
    t.tokenFile(),
    JSON.stringify(file) + " ".repeat(2 * 1024 * 1024),
  );
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 3, token.stderr);
  assert.equal(token.stdout, "");
});

Deno.test({
  name:
    "the refresh lock held by a stopped 'token': another 'token' names its pid after ~2 s, gives up at LOOKER_OAUTH_LOCK_TIMEOUT with exit 1; once the holder is dead the lock is taken at once",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using t = await tempHome();
    // The stopped process's refresh reached the server; without rotation its
    // refresh token stays good for whoever takes over.
    await using looker = await startLooker({ rotateRefreshTokens: false });
    const { emulator } = looker;
    await signIn(t, looker);
    const expired = await expireTokenFile(t.tokenFile());
    const lockFile = t.tokenFile().replace(/\.json$/, ".lock");
    // The first refresh is held at the server, so its process keeps the lock.
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    emulator.tokenResponseFilter = async (response, grantType) => {
      if (grantType === "refresh_token") await held;
      return response;
    };
    await using holder = spawnCli(["token"], { home: t.home });
    const pid = holder.child.pid;
    try {
      // Wait until it holds the lock (Linux lists it in /proc/locks) and has
      // written its pid there: stopped in between, it would name nobody.
      const ino = (await Deno.stat(lockFile)).ino!;
      const deadline = Date.now() + 15_000;
      while (
        !(await holdsFlock(pid, ino)) ||
        (await Deno.readTextFile(lockFile)).trim() !== String(pid)
      ) {
        if (Date.now() > deadline) {
          assert.fail("the holder never took the lock");
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      Deno.kill(pid, "SIGSTOP"); // Ctrl-Z
      const LIMIT_S = 4;
      const started = performance.now();
      await using waiter = spawnCli(["token"], {
        home: t.home,
        env: { LOOKER_OAUTH_LOCK_TIMEOUT: String(LIMIT_S) },
      });
      await waiter.stderr.waitFor(new RegExp(`\\b${pid}\\b`), 10_000);
      const noticedAfter = performance.now() - started;
      const result = await waiter.result();
      const took = performance.now() - started;
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, "");
      assert.ok(!hasStackTrace(result.stderr), result.stderr);
      assert.ok(noticedAfter >= 2_000, `said so after ${noticedAfter} ms`);
      // The notice came while waiting, before the error that ends the wait.
      const said = lines(result.stderr);
      const notice = said.findIndex((l) => new RegExp(`\\b${pid}\\b`).test(l));
      assert.equal(said.length - notice, 3, result.stderr); // notice, error, hint
      assert.ok(took >= LIMIT_S * 1000, `gave up after ${took} ms`);
      // Bounded: the limit plus start-up time on a busy machine.
      assert.ok(took < LIMIT_S * 1000 + 10_000, `gave up after ${took} ms`);
      // It never refreshed (at most the stopped one did), and the tokens are
      // as they were.
      assert.ok(emulator.stats.refreshes <= 1);
      assert.deepEqual(await readTokenFile(t.tokenFile()), expired);
    } finally {
      Deno.kill(pid, "SIGKILL");
      release();
    }
    await holder.result();
    // The holder is dead: its lock is free at once.
    const started = performance.now();
    const after = await runCli(["token"], { home: t.home });
    const took = performance.now() - started;
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stderr, "");
    const saved = await readTokenFile(t.tokenFile());
    assert.equal(after.stdout, `${saved.tokens.accessToken}\n`);
    assert.notEqual(saved.tokens.accessToken, expired.tokens.accessToken);
    assert.ok(took < 10_000, `took ${took} ms`);
  },
});

Deno.test("LOOKER_OAUTH_LOCK_TIMEOUT that is not a number of seconds is a usage error", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  await expireTokenFile(t.tokenFile());
  for (const value of ["0", "-1", "soon", "1e9", "Infinity"]) {
    const token = await cli(["token"], {
      home: t.home,
      env: { LOOKER_OAUTH_LOCK_TIMEOUT: value },
    });
    assert.equal(token.code, 2, `${value}: ${token.stderr}`);
  }
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("a token file saved for another client or server than the profile names: status, status --all and api say signed out (exit 3), nothing is sent", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const file = JSON.parse(await Deno.readTextFile(t.tokenFile()));
  assert.equal(file.clientId, looker.clientId, "login binds the token file");
  for (
    const other of [{ clientId: "another-client" }, { server: "https://x" }]
  ) {
    await Deno.writeTextFile(
      t.tokenFile(),
      JSON.stringify({ ...file, ...other }),
    );
    const before = looker.emulator.stats.apiCalls;
    for (const args of [["status", "--json"], ["api", "/user"]]) {
      const run = await cli(args, { home: t.home });
      assert.equal(run.code, 3, `${args.join(" ")}: ${run.stderr}`);
      const about = lines(run.stderr).filter((l) => l.includes(t.tokenFile()));
      assert.equal(about.length, 1, run.stderr);
    }
    const all = await cli(["status", "--all", "--json"], { home: t.home });
    assert.equal(JSON.parse(all.stdout)[0].signedIn, false, all.stdout);
    assert.equal(looker.emulator.stats.apiCalls, before);
  }
});
