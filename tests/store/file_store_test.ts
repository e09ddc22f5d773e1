// FileTokenStore on a real file system: modes, symlinks, corrupt files,
// failed writes, atomic replacement, and the lock shared across processes.
import assert from "node:assert/strict";
import type { TokenSet } from "../../src/core/mod.ts";
import { TokenStoreError } from "../../src/store/errors.ts";
import { FileTokenStore } from "../../src/store/file_store.ts";

const IS_WINDOWS = Deno.build.os === "windows";
const ROOT = new URL("../../", import.meta.url);
const STORE_MODULE = new URL("src/store/file_store.ts", ROOT).href;

const TOKENS: TokenSet = {
  accessToken: "access-token-one",
  tokenType: "Bearer",
  expiresAt: 1_900_000_000_000,
  refreshToken: "refresh-token-one",
  scope: "cors_api",
};

async function tempHome(): Promise<
  { home: string } & AsyncDisposable
> {
  const home = await Deno.makeTempDir({ prefix: "looker-oauth-store-" });
  return {
    home,
    [Symbol.asyncDispose]: async () => {
      await Deno.chmod(`${home}/tokens`, 0o700).catch(() => {});
      await Deno.remove(home, { recursive: true });
    },
  };
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

function isStoreError(code: TokenStoreError["code"]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof TokenStoreError, `not a TokenStoreError: ${err}`);
    assert.equal(err.code, code);
    return true;
  };
}

/** Names in `dir` other than the expected ones (temp files left behind). */
async function strays(dir: string, expected: string[]): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!expected.includes(entry.name)) names.push(entry.name);
  }
  return names;
}

Deno.test("FileTokenStore saves and loads the tokens", async () => {
  await using t = await tempHome();
  const store = new FileTokenStore({ home: t.home });
  assert.equal(await store.load(), undefined);
  assert.equal(store.loadSync(), undefined);
  await store.save(TOKENS);
  assert.deepEqual(await store.load(), TOKENS);
  assert.deepEqual(store.loadSync(), TOKENS);
  assert.equal(store.path, `${t.home}/tokens/default.json`);
  await store.clear();
  assert.equal(await store.load(), undefined);
  await store.clear(); // idempotent
});

Deno.test("FileTokenStore keeps profiles apart", async () => {
  await using t = await tempHome();
  const a = new FileTokenStore({ home: t.home, profile: "prod-eu.1" });
  const b = new FileTokenStore({ home: t.home, profile: "staging_2" });
  await a.save(TOKENS);
  assert.equal(await b.load(), undefined);
  assert.deepEqual(await a.load(), TOKENS);
});

Deno.test({
  name: "FileTokenStore creates the file 0600 in a 0700 folder",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const store = new FileTokenStore({ home: t.home });
    await store.save(TOKENS);
    assert.equal(await mode(store.dir), 0o700);
    assert.equal(await mode(store.path), 0o600);
    await store.withLock(() => Promise.resolve());
    assert.equal(await mode(`${store.dir}/default.lock`), 0o600);
  },
});

Deno.test({
  name: "FileTokenStore tightens a 0644 token file on load, with one warning",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const warnings: string[] = [];
    const store = new FileTokenStore({
      home: t.home,
      onWarning: (m) => warnings.push(m),
    });
    await store.save(TOKENS);
    await Deno.chmod(store.path, 0o644);
    assert.deepEqual(await store.load(), TOKENS);
    assert.equal(await mode(store.path), 0o600);
    assert.equal(warnings.length, 1);
    assert.doesNotMatch(warnings[0]!, /\n/);
    // Once tight, no more warnings.
    await store.load();
    assert.equal(warnings.length, 1);
    // The blocking variant (the CLI's `token`) does the same.
    await Deno.chmod(store.path, 0o604);
    assert.deepEqual(store.loadSync(), TOKENS);
    assert.equal(await mode(store.path), 0o600);
    assert.equal(warnings.length, 2);
  },
});

Deno.test({
  name: "FileTokenStore replaces a 0644 token file with a 0600 one on save",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const store = new FileTokenStore({ home: t.home });
    await Deno.mkdir(store.dir, { mode: 0o700 });
    await Deno.writeTextFile(store.path, "{}", { mode: 0o644 });
    await Deno.chmod(store.path, 0o644);
    await store.save(TOKENS);
    assert.equal(await mode(store.path), 0o600);
  },
});

Deno.test({
  name: "FileTokenStore tightens a looser existing folder on save",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const store = new FileTokenStore({ home: t.home });
    await Deno.mkdir(store.dir);
    await Deno.chmod(store.dir, 0o755);
    await store.save(TOKENS);
    assert.equal(await mode(store.dir), 0o700);
    assert.equal(await mode(store.path), 0o600);
  },
});

Deno.test({
  name: "FileTokenStore refuses a symlinked token file on load and save",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const store = new FileTokenStore({ home: t.home });
    const target = `${t.home}/elsewhere.json`;
    const original = JSON.stringify({
      version: 1,
      tokens: { ...TOKENS, accessToken: "target-token" },
    });
    await Deno.writeTextFile(target, original);
    await Deno.chmod(target, 0o644);
    await Deno.mkdir(store.dir, { mode: 0o700 });
    await Deno.symlink(target, store.path);

    await assert.rejects(store.load(), isStoreError("symlink_refused"));
    assert.throws(() => store.loadSync(), isStoreError("symlink_refused"));
    await assert.rejects(store.save(TOKENS), isStoreError("symlink_refused"));

    assert.equal(await Deno.readTextFile(target), original);
    assert.equal(await mode(target), 0o644, "the target's mode was changed");
    assert.ok(
      (await Deno.lstat(store.path)).isSymlink,
      "the link was replaced",
    );
    assert.deepEqual(await strays(store.dir, ["default.json"]), []);
  },
});

Deno.test({
  name: "FileTokenStore refuses a dangling symlink on save",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const store = new FileTokenStore({ home: t.home });
    const target = `${t.home}/not-yet.json`;
    await Deno.mkdir(store.dir, { mode: 0o700 });
    await Deno.symlink(target, store.path);
    await assert.rejects(store.save(TOKENS), isStoreError("symlink_refused"));
    await assert.rejects(Deno.lstat(target), Deno.errors.NotFound);
  },
});

const BROKEN: Record<string, string | Uint8Array> = {
  "corrupt": "{ this is not json",
  "truncated": JSON.stringify({ version: 1, tokens: TOKENS }, null, 2)
    .slice(0, 40),
  "empty": "",
  "blank": "  \n\t\n",
  "null": "null",
  "an array": "[]",
  "a string": '"access-token"',
  "no tokens": '{"version":1}',
  "a numeric access token":
    '{"version":1,"tokens":{"accessToken":5,"tokenType":"Bearer","expiresAt":1}}',
  "an empty access token":
    '{"version":1,"tokens":{"accessToken":"","tokenType":"Bearer","expiresAt":1}}',
  "no expiry":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer"}}',
  "a string expiry":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":"soon"}}',
  "an object refresh token":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":1,"refreshToken":{}}}',
  "binary": "\u0000\u0001\u00ff\ufffd",
  "an expiry past what a Date holds":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":1e300}}',
  "a negative expiry":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":-1}}',
  "an access token with a terminal escape":
    '{"version":1,"tokens":{"accessToken":"a\\u001b]0;x\\u0007","tokenType":"Bearer","expiresAt":1}}',
  "an access token with CR LF":
    '{"version":1,"tokens":{"accessToken":"a\\r\\nX-Evil: 1","tokenType":"Bearer","expiresAt":1}}',
  "a refresh token with NUL":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":1,"refreshToken":"r\\u0000"}}',
  "an empty token type":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"","expiresAt":1}}',
  "a numeric scope":
    '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":1,"scope":5}}',
  "another version":
    '{"version":2,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":1}}',
  "tokens as an array": '{"version":1,"tokens":[]}',
  // Valid JSON around a scope holding the byte 0xFF.
  "a scope that is not UTF-8": new Uint8Array([
    ...new TextEncoder().encode(
      '{"version":1,"tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":1,"scope":"a',
    ),
    0xff,
    ...new TextEncoder().encode('"}}'),
  ]),
  "a client id without a server":
    '{"version":1,"clientId":"c","tokens":{"accessToken":"a","tokenType":"Bearer","expiresAt":1}}',
};

for (const [what, text] of Object.entries(BROKEN)) {
  Deno.test(`FileTokenStore reads a broken token file (${what}) as signed out, with one warning line`, async () => {
    await using t = await tempHome();
    const warnings: string[] = [];
    const store = new FileTokenStore({
      home: t.home,
      onWarning: (m) => warnings.push(m),
    });
    await Deno.mkdir(store.dir, { mode: 0o700 });
    await (typeof text === "string"
      ? Deno.writeTextFile(store.path, text, { mode: 0o600 })
      : Deno.writeFile(store.path, text, { mode: 0o600 }));
    assert.equal(await store.load(), undefined);
    assert.equal(warnings.length, 1, `warnings: ${JSON.stringify(warnings)}`);
    assert.doesNotMatch(warnings[0]!, /[\r\n]/);
    assert.doesNotMatch(warnings[0]!, /\bat .*:\d+:\d+/, "a stack trace");
    assert.ok(warnings[0]!.includes(store.path));
    // The blocking variant (the CLI's `token`) reads it the same way.
    assert.equal(store.loadSync(), undefined);
    assert.equal(warnings.length, 2);
    assert.equal(warnings[1], warnings[0]);
    // Saving afterwards replaces the broken file.
    await store.save(TOKENS);
    assert.deepEqual(await store.load(), TOKENS);
  });
}

Deno.test("FileTokenStore refuses profile names that are not plain file names", () => {
  for (
    const profile of [
      "../x",
      "a/b",
      "",
      "..",
      ".",
      ".hidden",
      "a\\b",
      "/etc/passwd",
      "x".repeat(65),
      "a b",
      "a\u0000b",
      "-flag",
    ]
  ) {
    assert.throws(
      () => new FileTokenStore({ home: "/tmp/unused", profile }),
      isStoreError("invalid_profile"),
      JSON.stringify(profile),
    );
  }
  for (const profile of ["default", "prod-eu.1", "A_b-c.d", "x".repeat(64)]) {
    new FileTokenStore({ home: "/tmp/unused", profile });
  }
});

Deno.test("FileTokenStore reports write_failed and keeps the target when the rename fails", async () => {
  await using t = await tempHome();
  const store = new FileTokenStore({ home: t.home });
  // Something that is not a token file sits at the token file's path.
  await Deno.mkdir(`${store.path}/keep`, { recursive: true });
  await Deno.writeTextFile(`${store.path}/keep/data`, "untouched");
  await assert.rejects(store.save(TOKENS), isStoreError("write_failed"));
  assert.equal(await Deno.readTextFile(`${store.path}/keep/data`), "untouched");
  assert.deepEqual(await strays(store.dir, ["default.json"]), []);
});

Deno.test("FileTokenStore reports write_failed when the tokens folder cannot be made", async () => {
  await using t = await tempHome();
  const store = new FileTokenStore({ home: t.home });
  await Deno.writeTextFile(store.dir, "a file where the folder should be");
  await assert.rejects(store.save(TOKENS), isStoreError("write_failed"));
  assert.equal(
    await Deno.readTextFile(store.dir),
    "a file where the folder should be",
  );
});

Deno.test({
  name:
    "FileTokenStore keeps the previous file intact and leaves no temp file when the disk is full",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const store = new FileTokenStore({ home: t.home });
    await store.save(TOKENS);
    const before = await Deno.readTextFile(store.path);
    // A child process whose files may not grow past 16 KiB (ulimit -f, with
    // SIGXFSZ ignored): writing a bigger token file fails with EFBIG, as a
    // full disk would fail with ENOSPC.
    const script = `${t.home}/save.ts`;
    await Deno.writeTextFile(
      script,
      `import { FileTokenStore } from ${JSON.stringify(STORE_MODULE)};
const store = new FileTokenStore({ home: ${JSON.stringify(t.home)} });
try {
  await store.save({
    accessToken: "x".repeat(64 * 1024),
    tokenType: "Bearer",
    expiresAt: 1,
  });
  console.log(JSON.stringify({ saved: true }));
} catch (err) {
  console.log(JSON.stringify({ name: err.name, code: err.code }));
}
`,
    );
    const output = await new Deno.Command("bash", {
      args: [
        "-c",
        'trap "" XFSZ; ulimit -f 16; exec "$0" run --no-check -A --config "$1" "$2"',
        Deno.execPath(),
        new URL("deno.json", ROOT).pathname,
        script,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout).trim();
    assert.equal(
      output.code,
      0,
      new TextDecoder().decode(output.stderr) || stdout,
    );
    assert.deepEqual(JSON.parse(stdout), {
      name: "TokenStoreError",
      code: "write_failed",
    });
    assert.equal(await Deno.readTextFile(store.path), before);
    assert.deepEqual(await store.load(), TOKENS);
    assert.deepEqual(await strays(store.dir, ["default.json"]), []);
  },
});

Deno.test("FileTokenStore saves atomically: a reader never sees a partial file", async () => {
  await using t = await tempHome();
  const writer = new FileTokenStore({ home: t.home });
  const warnings: string[] = [];
  const reader = new FileTokenStore({
    home: t.home,
    onWarning: (m) => warnings.push(m),
  });
  // Two token sets of very different sizes, so that a torn write shows.
  const small: TokenSet = { ...TOKENS, accessToken: "s".repeat(10) };
  const large: TokenSet = { ...TOKENS, accessToken: "L".repeat(256 * 1024) };
  await writer.save(small);
  let done = false;
  let reads = 0;
  const problems: string[] = [];
  const reading = (async () => {
    while (!done) {
      const tokens = await reader.load();
      reads++;
      if (
        tokens?.accessToken !== small.accessToken &&
        tokens?.accessToken !== large.accessToken
      ) {
        problems.push(
          `read ${reads} saw ${
            tokens ? `${tokens.accessToken.length} characters` : "no tokens"
          }`,
        );
      }
    }
  })();
  try {
    for (let i = 0; i < 200; i++) {
      await writer.save(i % 2 === 0 ? large : small);
    }
  } finally {
    done = true;
    await reading;
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(warnings, []);
  assert.ok(reads > 0);
  assert.deepEqual(await strays(writer.dir, ["default.json"]), []);
});

/** Polls for `path` to exist, boundedly. */
async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    try {
      await Deno.lstat(path);
      return;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${path} never appeared`);
}

Deno.test("FileTokenStore withLock() is exclusive across processes", async () => {
  await using t = await tempHome();
  const log = `${t.home}/log.txt`;
  await Deno.writeTextFile(log, "");
  const script = `${t.home}/locker.ts`;
  const WORK = 20;
  await Deno.writeTextFile(
    script,
    `import { FileTokenStore } from ${JSON.stringify(STORE_MODULE)};
const [home, log, id] = Deno.args;
const store = new FileTokenStore({ home, profile: "shared" });
// Start together: say ready, then wait (boundedly) for the go.
await Deno.writeTextFile(home + "/ready-" + id, "");
for (let i = 0; ; i++) {
  try { await Deno.lstat(home + "/go"); break; } catch { /* not yet */ }
  if (i > 2000) throw new Error("no go");
  await new Promise((resolve) => setTimeout(resolve, 2));
}
await store.withLock(async () => {
  await Deno.writeTextFile(log, "start " + id + "\\n", { append: true });
  // Hold the lock across many turns of the event loop, so that another
  // process's lines would land in between if the lock did not hold.
  for (let i = 0; i < ${WORK}; i++) {
    await Deno.writeTextFile(log, "work " + id + "\\n", { append: true });
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Deno.writeTextFile(log, "end " + id + "\\n", { append: true });
});
`,
  );
  const children = Array.from(
    { length: 5 },
    (_, id) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-check",
          "-A",
          "--config",
          new URL("deno.json", ROOT).pathname,
          script,
          t.home,
          log,
          String(id),
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output(),
  );
  for (let id = 0; id < 5; id++) await waitForFile(`${t.home}/ready-${id}`);
  await Deno.writeTextFile(`${t.home}/go`, "");
  for (const output of await Promise.all(children)) {
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  }
  const lines = (await Deno.readTextFile(log)).trim().split("\n");
  const size = WORK + 2;
  assert.equal(lines.length, 5 * size);
  const seen = new Set<string>();
  for (let block = 0; block < 5; block++) {
    const chunk = lines.slice(block * size, (block + 1) * size);
    const id = chunk[0]!.split(" ")[1]!;
    assert.deepEqual(
      chunk,
      [
        `start ${id}`,
        ...Array.from({ length: WORK }, () => `work ${id}`),
        `end ${id}`,
      ],
      `process ${id}'s critical section was interleaved`,
    );
    seen.add(id);
  }
  assert.equal(seen.size, 5);
});

Deno.test("FileTokenStore withLock() returns the function's result and releases on error", async () => {
  await using t = await tempHome();
  const store = new FileTokenStore({ home: t.home });
  assert.equal(await store.withLock(() => Promise.resolve(42)), 42);
  await assert.rejects(
    store.withLock(() => Promise.reject(new RangeError("inside"))),
    RangeError,
  );
  // Released: taking it again does not hang.
  assert.equal(await store.withLock(() => Promise.resolve("again")), "again");
});

/** Settles with `"timeout"` if `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test({
  name:
    "FileTokenStore reads a FIFO at the token path as signed out, without waiting for a writer",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const warnings: string[] = [];
    const store = new FileTokenStore({
      home: t.home,
      onWarning: (m) => warnings.push(m),
    });
    await Deno.mkdir(store.dir, { mode: 0o700 });
    const made = await new Deno.Command("mkfifo", {
      args: ["-m", "600", store.path],
    }).output();
    assert.equal(made.code, 0);
    const loaded = await within(store.load(), 5_000);
    if (loaded === "timeout") {
      // Let the blocked reader go before failing.
      const writer = await Deno.open(store.path, { write: true });
      writer.close();
      assert.fail("load() waited on the FIFO");
    }
    assert.equal(loaded, undefined);
    assert.equal(store.loadSync(), undefined);
    assert.equal(warnings.length, 2, JSON.stringify(warnings));
    assert.ok(warnings[0]!.includes(store.path));
  },
});

Deno.test("FileTokenStore reads a token file over 1 MiB as signed out without parsing it", async () => {
  await using t = await tempHome();
  const warnings: string[] = [];
  const store = new FileTokenStore({
    home: t.home,
    onWarning: (m) => warnings.push(m),
  });
  await Deno.mkdir(store.dir, { mode: 0o700 });
  // Valid JSON of valid tokens, padded past the cap.
  const text = JSON.stringify({ version: 1, tokens: TOKENS }) +
    " ".repeat(1024 * 1024);
  await Deno.writeTextFile(store.path, text, { mode: 0o600 });
  assert.equal(await store.load(), undefined);
  assert.equal(store.loadSync(), undefined);
  assert.equal(warnings.length, 2, JSON.stringify(warnings));
  assert.doesNotMatch(warnings[0]!, /[\r\n]/);
  // Just under the cap still reads.
  await Deno.writeTextFile(
    store.path,
    JSON.stringify({ version: 1, tokens: TOKENS }) +
      " ".repeat(1024 * 1024 - 4096),
  );
  assert.deepEqual(await store.load(), TOKENS);
  assert.deepEqual(store.loadSync(), TOKENS);
});

Deno.test("FileTokenStore keeps only the token fields it knows", async () => {
  await using t = await tempHome();
  const store = new FileTokenStore({ home: t.home });
  await Deno.mkdir(store.dir, { mode: 0o700 });
  await Deno.writeTextFile(
    store.path,
    JSON.stringify({
      version: 1,
      tokens: { ...TOKENS, extra: { deep: true }, apiUrl: "http://evil" },
    }),
    { mode: 0o600 },
  );
  assert.deepEqual(await store.load(), TOKENS);
  assert.deepEqual(store.loadSync(), TOKENS);
});

Deno.test("FileTokenStore with a binding saves it and reads another sign-in's tokens as signed out", async () => {
  await using t = await tempHome();
  const warnings: string[] = [];
  const plain = new FileTokenStore({
    home: t.home,
    onWarning: (m) => warnings.push(m),
  });
  const a = plain.withBinding({ clientId: "cli-a", server: "https://a" });
  const b = plain.withBinding({ clientId: "cli-b", server: "https://a" });
  const c = plain.withBinding({ clientId: "cli-a", server: "https://c" });
  await a.save(TOKENS);
  const file = JSON.parse(await Deno.readTextFile(plain.path));
  assert.equal(file.clientId, "cli-a");
  assert.equal(file.server, "https://a");
  assert.deepEqual(await a.load(), TOKENS);
  assert.deepEqual(a.loadSync(), TOKENS);
  assert.deepEqual(await plain.load(), TOKENS, "no binding: any is fine");
  assert.equal(warnings.length, 0);
  assert.equal(await b.load(), undefined);
  assert.equal(b.loadSync(), undefined);
  assert.equal(await c.load(), undefined);
  assert.equal(warnings.length, 3, JSON.stringify(warnings));
  // A file saved without a binding (an earlier version) is accepted.
  await plain.save(TOKENS);
  assert.deepEqual(await b.load(), TOKENS);
});

/** A child process holding `profile`'s lock until killed; resolves its pid. */
async function lockHolder(
  home: string,
  profile: string,
): Promise<{ child: Deno.ChildProcess } & AsyncDisposable> {
  const script = `${home}/holder.ts`;
  await Deno.writeTextFile(
    script,
    `import { FileTokenStore } from ${JSON.stringify(STORE_MODULE)};
const [home, profile] = Deno.args;
const store = new FileTokenStore({ home, profile });
await store.withLock(async () => {
  await Deno.writeTextFile(home + "/locked", String(Deno.pid));
  await new Promise(() => setInterval(() => {}, 1000));
});
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "-A",
      "--config",
      new URL("deno.json", ROOT).pathname,
      script,
      home,
      profile,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForFile(`${home}/locked`);
  return {
    child,
    [Symbol.asyncDispose]: async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}

Deno.test({
  name:
    "FileTokenStore withLock() held by a stopped process: names its pid after 2 s, gives up with lock_timeout within its bound; once it dies the lock is taken at once",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    await using holder = await lockHolder(t.home, "shared");
    const pid = holder.child.pid;
    Deno.kill(pid, "SIGSTOP");
    const warnings: string[] = [];
    const store = new FileTokenStore({
      home: t.home,
      profile: "shared",
      lockTimeout: 3_000,
      onWarning: (m) => warnings.push(m),
    });
    let ran = false;
    const started = performance.now();
    const outcome = await within(
      store.withLock(() => {
        ran = true;
        return Promise.resolve();
      }).then(() => "acquired", (err) => err),
      10_000,
    );
    const waited = performance.now() - started;
    assert.notEqual(outcome, "timeout", "withLock() kept waiting past 10 s");
    assert.ok(outcome instanceof TokenStoreError, String(outcome));
    assert.equal(outcome.code, "lock_timeout");
    assert.ok(!ran);
    assert.ok(waited >= 3_000, `gave up after ${waited} ms`);
    assert.ok(waited < 5_000, `gave up after ${waited} ms`);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!, new RegExp(`\\b${pid}\\b`));
    assert.match(outcome.hint ?? "", new RegExp(`\\b${pid}\\b`));

    // A waiter whose holder dies meanwhile goes on at once.
    const waiting = store.withLock(() => Promise.resolve(performance.now()));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killedAt = performance.now();
    Deno.kill(pid, "SIGKILL");
    await holder.child.status;
    const tookAt = await waiting;
    assert.ok(
      tookAt - killedAt < 1_000,
      `took the lock ${tookAt - killedAt} ms after its holder died`,
    );
  },
});

Deno.test({
  name:
    "FileTokenStore save() under the lock removes temp files that killed saves left behind",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const script = `${t.home}/saver.ts`;
    await Deno.writeTextFile(
      script,
      `import { FileTokenStore } from ${JSON.stringify(STORE_MODULE)};
const store = new FileTokenStore({ home: Deno.args[0] });
const big = { accessToken: "x".repeat(8 * 1024 * 1024), tokenType: "Bearer", expiresAt: 1 };
await store.withLock(async () => {
  for (;;) await store.save(big);
});
`,
    );
    const store = new FileTokenStore({ home: t.home });
    await store.save(TOKENS);
    const other = `${store.dir}/.other.json.123.tmp`;
    await Deno.writeTextFile(other, "another profile's");
    const temps = async () =>
      (await strays(store.dir, ["default.json", "default.lock"])).filter((
        name,
      ) => name.startsWith(".default.json."));
    const ROUNDS = 5;
    for (let round = 0; round < ROUNDS; round++) {
      const before = new Set(await temps());
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-check",
          "-A",
          "--config",
          new URL("deno.json", ROOT).pathname,
          script,
          t.home,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      // Kill it while one of its own temp files exists. The child is stopped
      // while we look, so what we see is what it leaves: a save that looked
      // unfinished cannot complete its rename between the look and the kill.
      // (Names, not a count: its first save removes earlier rounds' strays.)
      const deadline = Date.now() + 15_000;
      let killedMidSave = false;
      while (!killedMidSave && Date.now() < deadline) {
        child.kill("SIGSTOP");
        await stopped(child.pid);
        if ((await temps()).some((name) => !before.has(name))) {
          child.kill("SIGKILL");
          killedMidSave = true;
        } else {
          child.kill("SIGCONT");
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
      if (!killedMidSave) child.kill("SIGKILL");
      await child.status;
      assert.ok(killedMidSave, `round ${round}: no save seen in progress`);
    }
    const left = await temps();
    assert.ok(left.length >= 1, "no killed save left a temp file");
    await store.withLock(() => store.save(TOKENS));
    assert.deepEqual(await temps(), []);
    assert.deepEqual(await store.load(), TOKENS);
    assert.equal(await Deno.readTextFile(other), "another profile's");
  },
});

/**
 * Resolves once the process is stopped (state `T` in Linux's
 * /proc/<pid>/stat): a SIGSTOP is sent, not yet taken, when kill() returns.
 * Where there is no /proc, right away.
 */
async function stopped(pid: number): Promise<void> {
  for (;;) {
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    } catch {
      return;
    }
    const state = stat.slice(
      stat.lastIndexOf(")") + 2,
      stat.lastIndexOf(")") + 3,
    );
    if (state === "T" || state === "t" || state === "Z") return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const IS_ROOT = !IS_WINDOWS && Deno.uid() === 0;

Deno.test({
  name:
    "FileTokenStore makes a group/world-writable home, tokens/ and token file private before reading, with a warning each",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const warnings: string[] = [];
    const store = new FileTokenStore({
      home: t.home,
      onWarning: (m) => warnings.push(m),
    });
    await store.save(TOKENS);
    for (const sync of [false, true]) {
      warnings.length = 0;
      await Deno.chmod(t.home, 0o777);
      await Deno.chmod(store.dir, 0o777);
      await Deno.chmod(store.path, 0o666);
      assert.deepEqual(sync ? store.loadSync() : await store.load(), TOKENS);
      assert.equal(await mode(t.home), 0o700);
      assert.equal(await mode(store.dir), 0o700);
      assert.equal(await mode(store.path), 0o600);
      assert.equal(warnings.length, 3, JSON.stringify(warnings));
      for (const [i, path] of [t.home, store.dir, store.path].entries()) {
        assert.ok(warnings[i]!.includes(path), warnings[i]);
      }
    }
  },
});

Deno.test({
  name:
    "FileTokenStore refuses a home, tokens/ or token file that belongs to another user (unsafe_permissions, with the command to run)",
  ignore: !IS_ROOT,
  fn: async () => {
    // As root, files can be handed to another user (nobody, 65534).
    for (const which of ["home", "dir", "file"] as const) {
      await using t = await tempHome();
      const store = new FileTokenStore({ home: t.home });
      await store.save(TOKENS);
      const path = which === "home"
        ? t.home
        : which === "dir"
        ? store.dir
        : store.path;
      await Deno.chown(path, 65534, 65534);
      for (const load of [() => store.load(), () => store.loadSync()]) {
        await assert.rejects(
          async () => await load(),
          (err: unknown) => {
            isStoreError("unsafe_permissions")(err);
            const e = err as TokenStoreError;
            assert.equal(e.path, path);
            assert.match(e.hint ?? "", /chmod/);
            return true;
          },
          which,
        );
      }
      await Deno.chown(path, 0, 0);
    }
  },
});

Deno.test("FileTokenStore reads back what it saved, even a server's odd scope or an empty one", async () => {
  await using t = await tempHome();
  const store = new FileTokenStore({ home: t.home });
  for (const scope of ["cors_api \u001b]2;x\u0007", "", "openid ü"]) {
    const tokens: TokenSet = { ...TOKENS, scope, idToken: "a.b.c" };
    await store.save(tokens);
    assert.deepEqual(await store.load(), tokens);
    assert.deepEqual(store.loadSync(), tokens);
  }
});

Deno.test({
  name:
    "FileTokenStore withLock() refuses a symlink at the lock file's path and leaves its target alone",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    const store = new FileTokenStore({ home: t.home });
    await Deno.mkdir(store.dir, { mode: 0o700 });
    const target = `${t.home}/precious.txt`;
    await Deno.writeTextFile(target, "keep me");
    await Deno.symlink(target, `${store.dir}/default.lock`);
    let ran = false;
    await assert.rejects(
      store.withLock(() => {
        ran = true;
        return Promise.resolve();
      }),
      isStoreError("symlink_refused"),
    );
    assert.ok(!ran);
    assert.equal(await Deno.readTextFile(target), "keep me");
  },
});

Deno.test({
  name:
    "FileTokenStore trusts a root-owned state folder (as OpenSSH does), never a root-owned tokens/ for another user",
  ignore: !IS_ROOT,
  fn: async () => {
    // Run as nobody in a child, against a folder root owns.
    await using t = await tempHome();
    const home = `${t.home}/state`;
    await Deno.mkdir(`${home}/tokens`, { recursive: true, mode: 0o755 });
    await Deno.chmod(home, 0o755);
    await Deno.chmod(t.home, 0o755);
    const script = `${t.home}/probe.ts`;
    await Deno.writeTextFile(
      script,
      `import { FileTokenStore } from ${JSON.stringify(STORE_MODULE)};
try {
  new FileTokenStore({ home: Deno.args[0] }).loadSync();
  console.log("trusted");
} catch (err) {
  console.log(err.code + " " + err.path);
}
`,
    );
    const run = await new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        Deno.execPath(),
        "run",
        "--no-check",
        "--allow-read",
        "--allow-sys=uid",
        "--no-config",
        script,
        home,
      ],
      env: {
        DENO_DIR: Deno.env.get("DENO_DIR") ??
          `${Deno.env.get("HOME")}/.cache/deno`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout).trim();
    assert.equal(
      out,
      `unsafe_permissions ${home}/tokens`,
      new TextDecoder().decode(run.stderr),
    );
  },
});
