/**
 * Sessions of the server sign-in helpers in Deno KV: shared by every
 * instance of an app (Deno Deploy's replicated KV, a self-hosted `denokv`, or
 * a local file), expiring with the session, refreshed once across instances.
 *
 * @example
 * ```ts ignore
 * import { lookerServer } from "@looker-oauth/pkce/core";
 * import { createAuthHelpers } from "@looker-oauth/pkce/server";
 * import { KvSessionStore } from "@looker-oauth/pkce/kv";
 *
 * const auth = createAuthHelpers({
 *   server: lookerServer({ lookerUrl: "https://example.looker.com" }),
 *   clientId: "my-app",
 *   redirectUri: "https://app.example.com/callback",
 *   cookieSecret: Deno.env.get("COOKIE_SECRET")!,
 *   store: new KvSessionStore(), // opened on first use
 * });
 * ```
 *
 * @module
 */
import { SignInError } from "../server/errors.ts";
import type { SessionRecord, SessionStore } from "../server/session_store.ts";

/** Options for {@linkcode KvSessionStore}. */
export interface KvSessionStoreOptions {
  /**
   * What to open with `Deno.openKv()` on first use: a file path, a
   * `denokv` URL, or nothing for the platform's default database.
   */
  path?: string;
  /** An already open database to use instead (not closed by `close()`). */
  kv?: Deno.Kv;
  /** The first parts of every key. Default `["looker_oauth"]`. */
  prefix?: Deno.KvKey;
  /**
   * How long one instance may hold a session's refresh lease, in ms.
   * Default 15 000. It must exceed the token request's timeout, or a slow
   * refresh could be repeated by another instance with a spent refresh
   * token.
   */
  leaseMs?: number;
  /**
   * How long a caller waits for another instance's lease, in ms. Default
   * `leaseMs` + 5 000: a lease left by a crashed instance is taken over
   * once it expires.
   */
  waitMs?: number;
  /** How often a waiting caller looks at the lease again, in ms. Default 20. */
  pollMs?: number;
  /**
   * Serve a session read from KV in the last `cacheMs` ms from this
   * instance's memory (at most `cacheSize` of them). Default 0: every read
   * goes to KV. With a cache, a session signed out on another instance
   * still works here for up to `cacheMs`; this instance's own writes and
   * deletes, and every read under the refresh lease, see KV itself.
   */
  cacheMs?: number;
  /** Most sessions the read cache holds. Default 10 000. */
  cacheSize?: number;
  /** The clock, in epoch ms; `Date.now` by default. */
  now?: () => number;
}

interface Lease {
  owner: string;
  until: number;
}

/**
 * A {@linkcode SessionStore} on Deno KV. The database is opened on first
 * use, never when the module loads.
 *
 * Records expire with the session (`expireIn`). Refresh is single-flight
 * across instances: {@linkcode KvSessionStore.withLock} takes a per-session
 * lease with an atomic versionstamp check, so that on a server that rotates
 * refresh tokens two instances never both spend the same one; the others
 * wait (polling, bounded by `waitMs`) and then find the new tokens. A lease
 * whose holder died expires after `leaseMs`.
 *
 * Requires `--unstable-kv` (or `"unstable": ["kv"]` in `deno.json`) where
 * KV is not stable; Deno Deploy has it.
 *
 * @example Two instances sharing one database file
 * ```ts ignore
 * import type { TokenSet } from "@looker-oauth/pkce/core";
 * import { KvSessionStore } from "@looker-oauth/pkce/kv";
 *
 * declare const tokens: TokenSet; // from the sign-in
 * await using a = new KvSessionStore({ path: "./sessions.sqlite" });
 * await using b = new KvSessionStore({ path: "./sessions.sqlite" });
 * await a.set("k", { tokens, createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
 * console.log((await b.get("k"))?.tokens.accessToken);
 * ```
 */
export class KvSessionStore implements SessionStore, AsyncDisposable {
  readonly #path: string | undefined;
  readonly #given: Deno.Kv | undefined;
  readonly #prefix: Deno.KvKey;
  readonly #leaseMs: number;
  readonly #waitMs: number;
  readonly #pollMs: number;
  readonly #now: () => number;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #cacheMs: number;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, { record: SessionRecord; until: number }>();
  readonly #held = new Set<string>();
  #opening: Promise<Deno.Kv> | undefined;
  #closed = false;

  /**
   * Creates a store. Nothing is opened until first use.
   *
   * @param options Where the database is, key prefix, lease timings.
   * @throws {SignInError} `invalid_config` for a lease, wait or poll time
   *   that is not a positive number, or `path` together with `kv`.
   */
  constructor(options: KvSessionStoreOptions = {}) {
    if (options.path !== undefined && options.kv !== undefined) {
      throw new SignInError("invalid_config", "give path or kv, not both");
    }
    this.#path = options.path;
    this.#given = options.kv;
    this.#prefix = options.prefix ?? ["looker_oauth"];
    this.#leaseMs = positive(options.leaseMs ?? 15_000, "leaseMs");
    this.#waitMs = positive(options.waitMs ?? this.#leaseMs + 5_000, "waitMs");
    this.#pollMs = positive(options.pollMs ?? 20, "pollMs");
    this.#cacheMs = options.cacheMs ?? 0;
    this.#cacheSize = options.cacheSize ?? 10_000;
    if (!(this.#cacheMs >= 0) || !Number.isFinite(this.#cacheMs)) {
      throw new SignInError("invalid_config", "cacheMs must be 0 or more");
    }
    this.#now = options.now ?? Date.now;
  }

  /**
   * Returns the live record under `key`.
   *
   * @param key The session key.
   * @returns The record, or `undefined`.
   * @throws {SignInError} `store_unavailable` when the database cannot be
   *   opened, or stays locked by another process.
   */
  async get(key: string): Promise<SessionRecord | undefined> {
    const now = this.#now();
    if (this.#cacheMs > 0 && !this.#held.has(key)) {
      const cached = this.#cache.get(key);
      if (cached && cached.until > now) {
        return cached.record.expiresAt > now ? cached.record : undefined;
      }
    }
    const kv = await this.#kv();
    const entry = await busy(() =>
      kv.get<SessionRecord>(this.#key("session", key))
    );
    const record = entry.value;
    if (!record || record.expiresAt <= this.#now()) {
      this.#cache.delete(key);
      return undefined;
    }
    this.#remember(key, record);
    return record;
  }

  /**
   * Stores a record; KV drops it at `record.expiresAt`.
   *
   * @param key The session key.
   * @param record The record.
   */
  async set(key: string, record: SessionRecord): Promise<void> {
    const kv = await this.#kv();
    const expireIn = Math.max(1, Math.ceil(record.expiresAt - this.#now()));
    await busy(() => kv.set(this.#key("session", key), record, { expireIn }));
    this.#remember(key, record);
  }

  /**
   * Removes a record.
   *
   * @param key The session key.
   */
  async delete(key: string): Promise<void> {
    const kv = await this.#kv();
    this.#cache.delete(key);
    await busy(() => kv.delete(this.#key("session", key)));
    this.#cache.delete(key);
  }

  /**
   * Marks `key` as used for `ttl` ms, atomically across instances.
   *
   * @param key What to mark.
   * @param ttl How long the mark lasts, in ms.
   * @returns `true` for the first caller, `false` while the mark lasts.
   */
  async claim(key: string, ttl: number): Promise<boolean> {
    const kv = await this.#kv();
    const k = this.#key("claim", key);
    for (;;) {
      const current = await busy(() => kv.get<number>(k));
      const now = this.#now();
      if (current.value !== null && current.value > now) return false;
      const result = await busy(() =>
        kv.atomic()
          .check({ key: k, versionstamp: current.versionstamp })
          .set(k, now + ttl, { expireIn: Math.max(1, Math.ceil(ttl)) })
          .commit()
      );
      if (result.ok) return true;
      // Someone else wrote it between our read and our write: read again.
    }
  }

  /**
   * Runs `fn` while holding the session's lease: one caller at a time in
   * this process, one instance at a time across the database.
   *
   * @param key The session key.
   * @param fn The work to do under the lease.
   * @returns What `fn` returns.
   * @throws {SignInError} `lease_timeout` when another instance held the
   *   lease for longer than `waitMs`.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const run = previous.then(() => this.#leased(key, fn));
    const tail = run.then(() => {}, () => {});
    this.#queues.set(key, tail);
    tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }

  /**
   * Closes the database if this store opened it. Idempotent.
   *
   * @returns When closed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const opening = this.#opening;
    this.#opening = undefined;
    if (!opening || this.#given) return;
    try {
      (await opening).close();
    } catch {
      // It never opened, or is closed already.
    }
  }

  /** Closes the database, as {@linkcode KvSessionStore.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // The lease protocol and what it cannot save (a refresh answer lost with
  // its instance) are in docs/architecture.md, "Session stores".
  async #leased<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const kv = await this.#kv();
    const k = this.#key("lease", key);
    const owner = crypto.randomUUID();
    const deadline = this.#now() + this.#waitMs;
    let held: string;
    for (;;) {
      const current = await busy(() => kv.get<Lease>(k));
      const now = this.#now();
      if (current.value === null || current.value.until <= now) {
        const result = await busy(() =>
          kv.atomic()
            .check({ key: k, versionstamp: current.versionstamp })
            .set(k, { owner, until: now + this.#leaseMs }, {
              expireIn: this.#leaseMs,
            })
            .commit()
        );
        if (result.ok) {
          held = result.versionstamp;
          break;
        }
        continue;
      }
      if (now >= deadline) {
        throw new SignInError(
          "lease_timeout",
          `another instance has been refreshing this session for over ${this.#waitMs} ms`,
          { hint: "try again in a moment" },
        );
      }
      await sleep(Math.min(this.#pollMs, Math.max(1, deadline - now)));
    }
    this.#held.add(key);
    try {
      return await fn();
    } finally {
      this.#held.delete(key);
      // Release only our own lease: if it expired and another instance took
      // it, theirs stays.
      await busy(() =>
        kv.atomic().check({ key: k, versionstamp: held }).delete(k).commit()
      );
    }
  }

  #remember(key: string, record: SessionRecord): void {
    if (this.#cacheMs <= 0) return;
    this.#cache.delete(key);
    if (this.#cache.size >= this.#cacheSize) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(key, { record, until: this.#now() + this.#cacheMs });
  }

  #key(kind: string, key: string): Deno.KvKey {
    return [...this.#prefix, kind, key];
  }

  #kv(): Promise<Deno.Kv> {
    if (this.#closed) {
      return Promise.reject(
        new SignInError("invalid_config", "the session store is closed"),
      );
    }
    if (this.#given) return Promise.resolve(this.#given);
    this.#opening ??= openKv(this.#path).catch((err) => {
      this.#opening = undefined;
      throw err;
    });
    return this.#opening;
  }
}

async function openKv(path: string | undefined): Promise<Deno.Kv> {
  if (typeof Deno.openKv !== "function") {
    throw new SignInError(
      "invalid_config",
      "Deno KV is not available in this runtime",
      {
        hint: 'run with --unstable-kv, or add "unstable": ["kv"] to deno.json',
      },
    );
  }
  try {
    return await Deno.openKv(path);
  } catch (err) {
    throw new SignInError(
      "store_unavailable",
      `the session database could not be opened${path ? ` at ${path}` : ""}`,
      {
        cause: err,
        hint: "check KV_PATH (or the path given) and its folder's permissions",
      },
    );
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new SignInError(
      "invalid_config",
      `${name} must be a positive number of ms`,
    );
  }
  return value;
}

/** How long an operation is retried while another process holds the file. */
const BUSY_WAIT_MS = 5_000;

/**
 * Runs a KV operation, again while a local database file is locked by another
 * process (SQLite's "database is locked", which Deno reports as a
 * `TypeError` with no code, so the message is all there is to match).
 */
async function busy<T>(op: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (let attempt = 0;; attempt++) {
    try {
      return await op();
    } catch (err) {
      const locked = err instanceof TypeError &&
        /database is (?:locked|busy)/i.test(err.message);
      if (!locked) throw err;
      if (Date.now() >= deadline) {
        throw new SignInError(
          "store_unavailable",
          `the session database stayed locked for over ${BUSY_WAIT_MS} ms`,
          {
            cause: err,
            hint: "try again; check that nothing else holds the KV file",
          },
        );
      }
      // Random backoff, growing to about 20 ms, so contenders spread out.
      await sleep(1 + Math.random() * Math.min(20, 2 ** attempt));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
