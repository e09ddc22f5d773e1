/**
 * Where the server helpers keep sessions: the interface, and a store in
 * memory for one process.
 *
 * @module
 */
import type { TokenSet } from "../core/token.ts";

/** One signed-in session as a store keeps it. */
export interface SessionRecord {
  /** The tokens, kept server-side only. */
  readonly tokens: TokenSet;
  /** When the session was created, in epoch ms. */
  readonly createdAt: number;
  /** When the session ends, in epoch ms, whatever the tokens say. */
  readonly expiresAt: number;
}

/**
 * Storage for server-side sessions, shared by every instance of an app that
 * uses the same store.
 *
 * Keys are opaque strings chosen by the helpers (a digest of the session
 * cookie, never the cookie itself). A store must not return a record past
 * its `expiresAt`.
 */
export interface SessionStore {
  /** Returns the live record under `key`, or `undefined`. */
  get(key: string): Promise<SessionRecord | undefined>;
  /** Stores `record` under `key` until `record.expiresAt`. */
  set(key: string, record: SessionRecord): Promise<void>;
  /** Removes the record under `key`, if any. */
  delete(key: string): Promise<void>;
  /**
   * Marks `key` as used for `ttl` ms. Resolves `true` for the first caller,
   * `false` for every later one while the mark lasts, across every instance
   * sharing the store: a sign-in callback is completed once.
   */
  claim(key: string, ttl: number): Promise<boolean>;
  /**
   * Runs `fn` while holding the lock of `key`, which every instance sharing
   * the store respects, so that one refresh of a session runs at a time.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Options for {@linkcode MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** The clock, in epoch ms; `Date.now` by default. */
  now?: () => number;
}

/**
 * A {@linkcode SessionStore} in this process's memory: for one instance,
 * development and tests. Sessions are lost when the process ends; apps on
 * more than one instance need a shared store such as `KvSessionStore`
 * (`@looker-oauth/pkce/kv`).
 *
 * Expired records are dropped when read, and swept every 1,000 writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemorySessionStore } from "@looker-oauth/pkce/server";
 *
 * const store = new MemorySessionStore();
 * assert.equal(await store.claim("nonce", 60_000), true); // first use
 * assert.equal(await store.claim("nonce", 60_000), false); // a replay
 * ```
 */
export class MemorySessionStore implements SessionStore {
  readonly #records = new Map<string, SessionRecord>();
  readonly #claims = new Map<string, number>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #now: () => number;
  #writes = 0;

  /**
   * Creates an empty store.
   *
   * @param options The clock.
   */
  constructor(options: MemorySessionStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** The number of records held, expired ones not yet swept included. */
  get size(): number {
    return this.#records.size;
  }

  /**
   * Returns the live record under `key`.
   *
   * @param key The session key.
   * @returns The record, or `undefined`.
   */
  get(key: string): Promise<SessionRecord | undefined> {
    const record = this.#records.get(key);
    if (record && record.expiresAt <= this.#now()) {
      this.#records.delete(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(record);
  }

  /**
   * Stores a record until its `expiresAt`.
   *
   * @param key The session key.
   * @param record The record.
   */
  set(key: string, record: SessionRecord): Promise<void> {
    this.#records.set(key, record);
    if (++this.#writes % 1000 === 0) this.#sweep();
    return Promise.resolve();
  }

  /**
   * Removes a record.
   *
   * @param key The session key.
   */
  delete(key: string): Promise<void> {
    this.#records.delete(key);
    return Promise.resolve();
  }

  /**
   * Marks `key` as used for `ttl` ms.
   *
   * @param key What to mark.
   * @param ttl How long the mark lasts, in ms.
   * @returns `true` the first time, `false` while the mark lasts.
   */
  claim(key: string, ttl: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#claims.get(key);
    if (until !== undefined && until > now) return Promise.resolve(false);
    this.#claims.set(key, now + ttl);
    if (++this.#writes % 1000 === 0) this.#sweep();
    return Promise.resolve(true);
  }

  /**
   * Runs `fn` after every earlier `withLock` call for `key` has settled.
   *
   * @param key The session key.
   * @param fn The work to do under the lock.
   * @returns What `fn` returns.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.then(() => {}, () => {});
    this.#locks.set(key, tail);
    tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, record] of this.#records) {
      if (record.expiresAt <= now) this.#records.delete(key);
    }
    for (const [key, until] of this.#claims) {
      if (until <= now) this.#claims.delete(key);
    }
  }
}
