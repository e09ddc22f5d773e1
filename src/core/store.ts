/**
 * Where a session keeps its tokens.
 *
 * @module
 */
import type { TokenSet } from "./token.ts";

/**
 * Storage for one sign-in's tokens. Implement it over a file, a database,
 * `sessionStorage` or a KV store.
 *
 * A store shared by several processes should implement
 * {@linkcode TokenStore.withLock}, so that only one of them refreshes at a
 * time: servers that rotate refresh tokens revoke the whole grant when an old
 * refresh token is used twice.
 */
export interface TokenStore {
  /** Returns the stored tokens, or `undefined` when signed out. */
  load(): Promise<TokenSet | undefined>;
  /** Replaces the stored tokens. */
  save(tokens: TokenSet): Promise<void>;
  /** Forgets the tokens. */
  clear(): Promise<void>;
  /**
   * Runs `fn` while holding a lock that other processes using the same store
   * respect. Optional: without it, refreshes are single-flight only within
   * one process.
   */
  withLock?<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * A {@linkcode TokenStore} in memory, for libraries, tests and short-lived
 * programs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryTokenStore } from "@looker-oauth/pkce/core";
 *
 * const store = new MemoryTokenStore();
 * await store.save({ accessToken: "a", tokenType: "bearer", expiresAt: 0 });
 * assert.equal((await store.load())?.accessToken, "a");
 * ```
 */
export class MemoryTokenStore implements TokenStore {
  #tokens: TokenSet | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Creates a store.
   *
   * @param tokens Tokens to start with, if any.
   */
  constructor(tokens?: TokenSet) {
    this.#tokens = tokens;
  }

  /**
   * Returns the tokens.
   *
   * @returns The tokens, or `undefined`.
   */
  load(): Promise<TokenSet | undefined> {
    return Promise.resolve(this.#tokens);
  }

  /**
   * Replaces the tokens.
   *
   * @param tokens The new tokens.
   */
  save(tokens: TokenSet): Promise<void> {
    this.#tokens = tokens;
    return Promise.resolve();
  }

  /** Forgets the tokens. */
  clear(): Promise<void> {
    this.#tokens = undefined;
    return Promise.resolve();
  }

  /**
   * Runs `fn` after every earlier `withLock` call on this store has settled,
   * so sessions sharing the store refresh one at a time.
   *
   * @param fn The work to do under the lock.
   * @returns What `fn` returns.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}
