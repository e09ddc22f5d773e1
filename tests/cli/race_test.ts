// The refresh race: ten `looker-oauth token` processes start at
// once on an expired token, against a Looker that rotates refresh tokens and
// revokes the whole grant when a retired one is used again. Exactly one
// refresh may reach the server, everyone must print the same new token, and
// nobody may be logged out.
import assert from "node:assert/strict";
import {
  cli,
  expireTokenFile,
  readTokenFile,
  signIn,
  spawnCli,
  startLooker,
  tempHome,
} from "../_cli.ts";

const PROCESSES = 10;
const ROUNDS = 3;

/**
 * Who of `pids` holds and who waits for the lock on the file with inode
 * `ino`: holders are listed in Linux's /proc/locks (`N: FLOCK ADVISORY WRITE
 * <pid> <dev>:<ino> ...`); waiters have the lock file open (a process opens
 * it only to take the lock; /proc/<pid>/fd) but do not hold it. The store
 * polls a non-blocking lock, so waiters do not show in /proc/locks as `->`
 * lines. /proc/locks is read before and after the open files, and a count
 * is only given when the holders did not change in between: otherwise a
 * process that took the lock while its files were read would count as
 * waiting. `undefined` where those files do not exist.
 */
async function lockState(
  ino: number,
  pids: ReadonlySet<number>,
): Promise<{ holding: number; waiting: number } | "changing" | undefined> {
  const holders = await lockHolders(ino, pids);
  if (holders === undefined) return undefined;
  let waiting = 0;
  for (const pid of pids) {
    if (holders.has(pid)) continue;
    try {
      for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
        const info = await Deno.stat(`/proc/${pid}/fd/${entry.name}`).catch(
          () => undefined,
        );
        if (info?.ino === ino) {
          waiting++;
          break;
        }
      }
    } catch {
      // exited, or not ours to look at
    }
  }
  const again = await lockHolders(ino, pids);
  if (
    again === undefined || again.size !== holders.size ||
    [...again].some((pid) => !holders.has(pid))
  ) {
    return "changing";
  }
  return { holding: holders.size, waiting };
}

/** The pids among `pids` that /proc/locks lists as holding a lock on `ino`. */
async function lockHolders(
  ino: number,
  pids: ReadonlySet<number>,
): Promise<Set<number> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile("/proc/locks");
  } catch {
    return undefined;
  }
  const holders = new Set<number>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[4]);
    if (
      fields[1] === "FLOCK" && fields[5]?.endsWith(`:${ino}`) && pids.has(pid)
    ) {
      holders.add(pid);
    }
  }
  return holders;
}

Deno.test(`${PROCESSES} concurrent 'token' processes on an expired token: one refresh, one new token for all, nobody logged out (${ROUNDS} rounds)`, async () => {
  await using t = await tempHome();
  await using looker = await startLooker({
    rotateRefreshTokens: true,
    revokeGrantOnRefreshReuse: true,
  });
  const { emulator } = looker;
  await signIn(t, looker);
  const lockFile = t.tokenFile().replace(/\.json$/, ".lock");
  const ino = (await Deno.stat(lockFile)).ino!;
  const canWatchLocks = (await lockState(ino, new Set())) !== undefined;

  // Where Linux shows lock waiters, the one refresh that reaches the server
  // is held until the nine other processes are all queued on the profile's
  // lock: the overlap is proven, not hoped for.
  let barrier: Promise<void> | undefined;
  emulator.tokenResponseFilter = async (response, grantType) => {
    if (grantType === "refresh_token" && barrier) await barrier;
    return response;
  };

  for (let round = 1; round <= ROUNDS; round++) {
    const before = await expireTokenFile(t.tokenFile());
    const children = Array.from(
      { length: PROCESSES },
      () => spawnCli(["token"], { home: t.home }),
    );
    try {
      const pids = new Set(children.map((c) => c.child.pid));
      let waiters = 0;
      if (canWatchLocks) {
        const deadline = Date.now() + 30_000;
        barrier = (async () => {
          while (Date.now() < deadline) {
            const state = await lockState(ino, pids);
            waiters = typeof state === "object" && state.holding === 1
              ? state.waiting
              : 0;
            if (waiters >= PROCESSES - 1) return;
            // A second refresh reached the server: the race is lost already.
            if (emulator.stats.refreshes > round) return;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        })();
      }
      const results = await Promise.all(children.map((c) => c.result()));
      await barrier;
      barrier = undefined;
      if (canWatchLocks) {
        assert.equal(
          waiters,
          PROCESSES - 1,
          "the other processes were all waiting on the lock during the refresh",
        );
      }

      const after = await readTokenFile(t.tokenFile());
      assert.notEqual(after.tokens.accessToken, before.tokens.accessToken);
      assert.notEqual(after.tokens.refreshToken, before.tokens.refreshToken);
      for (const [i, result] of results.entries()) {
        assert.equal(result.code, 0, `process ${i}: ${result.stderr}`);
        assert.equal(result.stdout, `${after.tokens.accessToken}\n`);
        // Nothing on stderr but, at most, the lock's notice: the barrier
        // above keeps the refresh holding the lock until the last process
        // is queued, and on a loaded machine starting ten processes takes
        // longer than the 2 s after which a waiter is told (correctly) who
        // holds the lock. No warning, no error, never the token.
        const other = result.stderr.split("\n").filter((line) =>
          line !== "" && !line.includes(`which holds the lock ${lockFile}`)
        );
        assert.deepEqual(other, [], `process ${i}`);
        assert.ok(
          !result.stderr.includes(after.tokens.accessToken),
          `process ${i}`,
        );
      }
      assert.equal(emulator.stats.refreshes, round, "exactly one refresh");
      assert.equal(emulator.stats.refreshReuses, 0, "no retired token reused");

      // Nobody was logged out: the new token works.
      const api = await cli(["api", "/user"], { home: t.home });
      assert.equal(api.code, 0, api.stderr);
      assert.equal(JSON.parse(api.stdout).email, "ada@example.com");
      assert.equal(emulator.stats.refreshes, round);
    } finally {
      await Promise.all(children.map((c) => c[Symbol.asyncDispose]()));
    }
  }
});
