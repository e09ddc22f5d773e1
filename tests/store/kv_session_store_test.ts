// KvSessionStore on real Deno KV: a temp file opened by two handles acts as
// two instances of an app. Lazy opening, expiry, single-use claims, the
// refresh lease (mutual exclusion, timeout, a holder killed while holding it),
// and the sign-in helpers on it against the Looker emulator.
import assert from "node:assert/strict";
import { SignInError } from "../../src/server/mod.ts";
import type { SessionRecord } from "../../src/server/mod.ts";
import { KvSessionStore } from "../../src/store/kv_session_store.ts";
import { createAuthHelpers } from "../../src/server/mod.ts";
import { closedPort } from "../_ports.ts";
import {
  appHandler,
  Client,
  CLIENT_ID,
  SECRET,
  signIn,
  startApp,
} from "../server/_app.ts";

async function tempKvPath(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "kv_store_test_" });
  return {
    path: `${dir}/sessions.sqlite`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function record(expiresAt: number, accessToken = "at-1"): SessionRecord {
  return {
    tokens: { accessToken, tokenType: "bearer", expiresAt: expiresAt },
    createdAt: Date.now(),
    expiresAt,
  };
}

function isSignInError(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof SignInError, `not a SignInError: ${err}`);
    assert.equal(err.code, code);
    return true;
  };
}

Deno.test("KvSessionStore opens nothing until first use, and reports a database it cannot open as store_unavailable", async () => {
  await using tmp = await tempKvPath();
  const missing = `${tmp.path}.d/nested/sessions.sqlite`;
  await using store = new KvSessionStore({ path: missing });
  await assert.rejects(
    Deno.stat(missing),
    Deno.errors.NotFound,
  );
  await assert.rejects(store.get("k"), isSignInError("store_unavailable"));
  await using lazy = new KvSessionStore({ path: tmp.path });
  await assert.rejects(Deno.stat(tmp.path), Deno.errors.NotFound);
  await lazy.get("k");
  assert.ok((await Deno.stat(tmp.path)).isFile);
});

Deno.test("KvSessionStore: two handles on one file see each other's sessions", async () => {
  await using tmp = await tempKvPath();
  await using a = new KvSessionStore({ path: tmp.path });
  await using b = new KvSessionStore({ path: tmp.path });
  await a.set("s1", record(Date.now() + 60_000));
  assert.equal((await b.get("s1"))?.tokens.accessToken, "at-1");
  await b.set("s1", record(Date.now() + 60_000, "at-2"));
  assert.equal((await a.get("s1"))?.tokens.accessToken, "at-2");
  await b.delete("s1");
  assert.equal(await a.get("s1"), undefined);
});

Deno.test("KvSessionStore returns no session past its expiresAt, and stores it with KV's expireIn", async () => {
  await using tmp = await tempKvPath();
  let now = Date.now();
  await using store = new KvSessionStore({ path: tmp.path, now: () => now });
  await store.set("s1", record(now + 60_000));
  assert.ok(await store.get("s1"));
  now += 60_000;
  assert.equal(await store.get("s1"), undefined);
  // The record itself goes away by expireIn: written with 30 ms to live,
  // raw KV no longer returns it once that has passed.
  await using raw = new KvSessionStore({ path: tmp.path });
  await raw.set("s2", record(Date.now() + 30));
  const kv = await Deno.openKv(tmp.path);
  try {
    const deadline = Date.now() + 10_000;
    let entry = await kv.get(["looker_oauth", "session", "s2"]);
    while (entry.value !== null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      entry = await kv.get(["looker_oauth", "session", "s2"]);
    }
    assert.equal(entry.value, null, "KV still holds the expired session");
  } finally {
    kv.close();
  }
});

Deno.test("KvSessionStore.claim() is true for exactly one of 10 concurrent callers over two handles", async () => {
  await using tmp = await tempKvPath();
  await using a = new KvSessionStore({ path: tmp.path });
  await using b = new KvSessionStore({ path: tmp.path });
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claim("n1", 60_000)),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(await a.claim("n2", 60_000), true);
});

Deno.test("KvSessionStore.claim() frees the key once the mark has lasted its ttl", async () => {
  await using tmp = await tempKvPath();
  let now = Date.now();
  await using store = new KvSessionStore({ path: tmp.path, now: () => now });
  assert.equal(await store.claim("n", 60_000), true);
  assert.equal(await store.claim("n", 60_000), false);
  now += 60_001;
  assert.equal(await store.claim("n", 60_000), true);
});

Deno.test("KvSessionStore.withLock() runs one holder at a time across two handles", async () => {
  await using tmp = await tempKvPath();
  await using a = new KvSessionStore({ path: tmp.path, pollMs: 5 });
  await using b = new KvSessionStore({ path: tmp.path, pollMs: 5 });
  let inside = 0;
  let most = 0;
  let done = 0;
  await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) =>
        (i % 2 ? a : b).withLock("s1", async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inside--;
          done++;
        }),
    ),
  );
  assert.equal(most, 1);
  assert.equal(done, 10);
});

Deno.test("KvSessionStore.withLock() gives up with lease_timeout when another instance holds the lease too long", async () => {
  await using tmp = await tempKvPath();
  await using a = new KvSessionStore({ path: tmp.path, leaseMs: 10_000 });
  await using b = new KvSessionStore({
    path: tmp.path,
    waitMs: 200,
    pollMs: 10,
  });
  let release!: () => void;
  const holding = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const held = a.withLock("s1", async () => {
    entered();
    await holding;
  });
  await inside;
  let ran = false;
  await assert.rejects(
    b.withLock("s1", () => {
      ran = true;
      return Promise.resolve();
    }),
    isSignInError("lease_timeout"),
  );
  assert.equal(ran, false);
  release();
  await held;
  // Released: the other instance gets it at once now.
  await b.withLock("s1", () => Promise.resolve());
});

Deno.test("KvSessionStore: a lease left by a killed instance is taken over once it expires", async () => {
  await using tmp = await tempKvPath();
  // Create the file first, so the holder and this process share it.
  await using store = new KvSessionStore({ path: tmp.path, pollMs: 10 });
  await store.get("warm-up");
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-kv",
      "--allow-read",
      "--allow-write",
      new URL("./_kv_lease_holder.ts", import.meta.url).pathname,
      tmp.path,
      "s1",
      "800",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = holder.stdout.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value).trim(), "held");
  holder.kill("SIGKILL");
  await holder.status;
  reader.releaseLock();
  await holder.stdout.cancel();
  const started = Date.now();
  let ran = false;
  await store.withLock("s1", () => {
    ran = true;
    return Promise.resolve();
  });
  assert.ok(ran);
  assert.ok(Date.now() - started < 10_000, "waited far past the lease");
});

Deno.test("sign-in helpers on KV: a session made through instance A works on B, and 10 concurrent requests over both refresh once (rotating Looker)", async () => {
  await using tmp = await tempKvPath();
  let now = Date.now();
  await using storeA = new KvSessionStore({ path: tmp.path, pollMs: 5 });
  await using storeB = new KvSessionStore({ path: tmp.path, pollMs: 5 });
  await using app = await startApp({ store: storeA, now: () => now });
  const b = appHandler(
    createAuthHelpers({ ...app.options, store: storeB, now: () => now }),
  );
  const client = new Client();
  await signIn(client, app.base);
  const cookie = `looker_oauth_session=${
    client.cookie(app.base, "looker_oauth_session")
  }`;
  const onB = await (await b(new Request(app.base, { headers: { cookie } })))
    .json();
  assert.equal(onB.user.display_name, "Ada Lovelace");

  now += 3600_000; // every instance sees the access token as expired
  app.looker.expireAccessTokens();
  const answers = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const response = i % 2
        ? await client.fetch(`${app.base}/`)
        : await b(new Request(app.base, { headers: { cookie } }));
      return await response.json();
    }),
  );
  for (const answer of answers) {
    assert.equal(answer.status, 200);
    assert.equal(answer.user.display_name, "Ada Lovelace");
  }
  assert.equal(app.looker.stats.refreshes, 1);
  assert.equal(app.looker.stats.refreshReuses, 0);
  // The session survives: both instances still serve it.
  assert.equal((await (await client.fetch(`${app.base}/`)).json()).status, 200);
  const again = await (await b(new Request(app.base, { headers: { cookie } })))
    .json();
  assert.equal(again.status, 200);
});

Deno.test("sign-in helpers on KV: an instance killed while holding a session's refresh lease leaves the session usable once the lease expires", async () => {
  await using tmp = await tempKvPath();
  let now = Date.now();
  await using store = new KvSessionStore({ path: tmp.path, pollMs: 10 });
  await using app = await startApp({ store, now: () => now });
  const client = new Client();
  await signIn(client, app.base);
  const session = await app.auth.getSession(
    new Request(app.base, {
      headers: {
        cookie: `looker_oauth_session=${
          client.cookie(app.base, "looker_oauth_session")
        }`,
      },
    }),
  );
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-kv",
      "--allow-read",
      "--allow-write",
      new URL("./_kv_lease_holder.ts", import.meta.url).pathname,
      tmp.path,
      session!.key,
      "800",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = holder.stdout.getReader();
  assert.equal(
    new TextDecoder().decode((await reader.read()).value).trim(),
    "held",
  );
  holder.kill("SIGKILL");
  await holder.status;
  reader.releaseLock();
  await holder.stdout.cancel();

  now += 3600_000;
  app.looker.expireAccessTokens();
  const answer = await (await client.fetch(`${app.base}/`)).json();
  assert.equal(answer.status, 200);
  assert.equal(answer.user.display_name, "Ada Lovelace");
  assert.equal(app.looker.stats.refreshes, 1);
});

Deno.test("KvSessionStore with cacheMs serves recent reads from memory, but its own deletes and every read under the lease see KV", async () => {
  await using tmp = await tempKvPath();
  let now = Date.now();
  await using a = new KvSessionStore({
    path: tmp.path,
    cacheMs: 1000,
    now: () => now,
  });
  await using b = new KvSessionStore({ path: tmp.path, now: () => now });
  await b.set("s1", record(now + 60_000, "at-1"));
  assert.equal((await a.get("s1"))?.tokens.accessToken, "at-1");
  await b.set("s1", record(now + 60_000, "at-2"));
  // Within cacheMs: the cached read.
  assert.equal((await a.get("s1"))?.tokens.accessToken, "at-1");
  // Under the lease: KV itself.
  await a.withLock("s1", async () => {
    assert.equal((await a.get("s1"))?.tokens.accessToken, "at-2");
  });
  now += 1001;
  assert.equal((await a.get("s1"))?.tokens.accessToken, "at-2");
  await a.delete("s1");
  assert.equal(await a.get("s1"), undefined);
  assert.equal(await b.get("s1"), undefined);
});

Deno.test("sign-in helpers on KV with a read cache on both instances still refresh once for 10 concurrent requests", async () => {
  await using tmp = await tempKvPath();
  const clock = Date.now;
  await using storeA = new KvSessionStore({
    path: tmp.path,
    pollMs: 5,
    cacheMs: 5_000,
    now: clock,
  });
  await using storeB = new KvSessionStore({
    path: tmp.path,
    pollMs: 5,
    cacheMs: 5_000,
    now: clock,
  });
  await using app = await startApp({ store: storeA, now: clock });
  const b = appHandler(
    createAuthHelpers({ ...app.options, store: storeB, now: clock }),
  );
  const client = new Client();
  await signIn(client, app.base);
  const cookie = `looker_oauth_session=${
    client.cookie(app.base, "looker_oauth_session")
  }`;
  // Both instances now hold the session in their caches.
  assert.equal((await (await client.fetch(`${app.base}/`)).json()).status, 200);
  assert.equal(
    (await (await b(new Request(app.base, { headers: { cookie } }))).json())
      .status,
    200,
  );
  // Looker refuses the cached access token: each instance must refresh
  // under the lease, where it reads KV, not its cache.
  app.looker.expireAccessTokens();
  const answers = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const response = i % 2
        ? await client.fetch(`${app.base}/`)
        : await b(new Request(app.base, { headers: { cookie } }));
      return await response.json();
    }),
  );
  for (const answer of answers) assert.equal(answer.status, 200);
  assert.equal(app.looker.stats.refreshes, 1);
  assert.equal(app.looker.stats.refreshReuses, 0);
});

Deno.test("an instance killed while its refresh request is in flight: another instance takes over once the lease expires and the session stays usable (Looker without rotation)", async () => {
  await using tmp = await tempKvPath();
  await using store = new KvSessionStore({ path: tmp.path, pollMs: 10 });
  await using app = await startApp({ store }, { rotateRefreshTokens: false });
  const client = new Client();
  await signIn(client, app.base);
  const cookie = `looker_oauth_session=${
    client.cookie(app.base, "looker_oauth_session")
  }`;
  // The first refresh's answer never arrives: its instance dies waiting.
  let held = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  app.looker.tokenResponseFilter = async (response, grantType) => {
    if (grantType !== "refresh_token" || held) return response;
    held = true;
    await released; // until its instance is dead
    return response;
  };
  const port = closedPort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-kv",
      "-A",
      new URL("./_kv_instance.ts", import.meta.url).pathname,
      String(port),
      JSON.stringify({
        lookerUrl: app.looker.lookerUrl,
        apiUrl: app.looker.apiUrl,
        clientId: CLIENT_ID,
        redirectUri: app.redirectUri,
        secret: SECRET,
        kvPath: tmp.path,
        leaseMs: 1000,
      }),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  assert.equal(
    new TextDecoder().decode((await reader.read()).value).trim(),
    "ready",
  );
  reader.releaseLock();
  await child.stdout.cancel();

  app.looker.expireAccessTokens();
  // Instance A takes the lease and sends the refresh, which hangs.
  const stuck = fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } })
    .then((r) => r.body?.cancel(), () => {});
  const deadline = Date.now() + 10_000;
  while (app.looker.stats.refreshes === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(app.looker.stats.refreshes, 1);
  child.kill("SIGKILL");
  await child.status;
  await stuck;
  release();

  // Instance B (this process) waits out A's lease, then refreshes itself.
  const answer = await (await client.fetch(`${app.base}/`)).json();
  assert.equal(answer.status, 200);
  assert.equal(answer.user.display_name, "Ada Lovelace");
  assert.equal(app.looker.stats.refreshes, 2);
});
