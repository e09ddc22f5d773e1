/**
 * A {@linkcode TokenStore} over Web Storage, single-flight across tabs.
 *
 * @module
 */
import type { TokenStore } from "../core/store.ts";
import type { TokenSet } from "../core/token.ts";
import { lockManager, page, sessionStore } from "./_dom.ts";

/** The key tokens are kept under when none is given. */
export const DEFAULT_TOKENS_KEY = "looker-oauth:tokens";

/** Options for {@linkcode WebStorageTokenStore}. */
export interface WebStorageTokenStoreOptions {
  /**
   * Where to keep the tokens: `sessionStorage` (the default: this tab only,
   * gone when it closes) or `localStorage` (every tab of the origin, kept
   * across restarts).
   */
  storage?: Storage;
  /** The storage key. Default {@linkcode DEFAULT_TOKENS_KEY}. */
  key?: string;
}

/**
 * Keeps one sign-in's tokens in `sessionStorage` or `localStorage`, as JSON
 * under one key.
 *
 * {@linkcode WebStorageTokenStore.withLock} takes a Web Lock named after the
 * key when the storage is `localStorage`, so a `TokenSession` in each of
 * several tabs refreshes one at a time and the others use the tokens it
 * saved: a server that rotates refresh tokens never sees one used twice.
 * Where `navigator.locks` is missing (browsers before 2022, non-secure
 * contexts), refreshes are single-flight within each tab only.
 *
 * Web Storage is readable by every script on the origin: keep the page free
 * of scripts you do not trust (a Content-Security-Policy helps).
 *
 * @example Tokens shared by the tabs of the origin
 * ```ts ignore
 * import { WebStorageTokenStore } from "@looker-oauth/pkce/browser";
 *
 * const store = new WebStorageTokenStore({ storage: localStorage });
 * console.log(await store.load()); // undefined until signed in
 * ```
 */
export class WebStorageTokenStore implements TokenStore {
  /** The storage the tokens are kept in. */
  readonly storage: Storage;
  /** The key they are kept under. */
  readonly key: string;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Creates a store. Nothing is read until first use.
   *
   * @param options The storage and key.
   * @throws {OAuthError} `invalid_argument` when no storage is given and
   *   there is no `sessionStorage`.
   */
  constructor(options: WebStorageTokenStoreOptions = {}) {
    this.storage = options.storage ?? sessionStore();
    this.key = options.key ?? DEFAULT_TOKENS_KEY;
  }

  /**
   * Returns the stored tokens; `undefined` when there are none or what is
   * stored is not a token set.
   *
   * @returns The tokens, or `undefined`.
   */
  load(): Promise<TokenSet | undefined> {
    return Promise.resolve(parseTokens(this.storage.getItem(this.key)));
  }

  /**
   * Replaces the stored tokens.
   *
   * @param tokens The new tokens.
   * @returns When saved.
   */
  save(tokens: TokenSet): Promise<void> {
    this.storage.setItem(this.key, JSON.stringify(tokens));
    return Promise.resolve();
  }

  /**
   * Forgets the tokens.
   *
   * @returns When removed.
   */
  clear(): Promise<void> {
    this.storage.removeItem(this.key);
    return Promise.resolve();
  }

  /**
   * Runs `fn` under a lock: a Web Lock shared by the origin's tabs for
   * `localStorage`, otherwise one queue per store.
   *
   * @param fn The work to do under the lock.
   * @returns What `fn` returns.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = lockManager();
    if (locks && this.storage === page.localStorage) {
      return locks.request(this.key, fn);
    }
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function parseTokens(text: string | null): TokenSet | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text);
    if (
      typeof value?.accessToken === "string" &&
      typeof value.tokenType === "string" &&
      typeof value.expiresAt === "number"
    ) {
      return value;
    }
  } catch {
    // not JSON: as if signed out
  }
  return undefined;
}
