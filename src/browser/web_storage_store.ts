/**
 * A {@linkcode TokenStore} over Web Storage, single-flight across tabs.
 *
 * @module
 */
import type { TokenStore } from "../core/store.ts";
import type { TokenSet } from "../core/token.ts";
import {
  lockManager,
  type LockManagerLike,
  page,
  sessionStore,
} from "./_dom.ts";

/** The key tokens are kept under when none is given. */
export const DEFAULT_TOKENS_KEY = "looker-oauth:tokens";

/** Which save wrote the stored tokens (a field of the stored JSON). */
const SAVE_ID = "saveId";
/** Longest wait for this tab's copy of `localStorage` to show the latest save. */
const CATCH_UP_MS = 2_000;

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
 * A tab's copy of `localStorage` learns of another tab's write a moment
 * later, and the lock can change hands sooner. So each save also holds a
 * small Web Lock whose name tells which save is the latest, and a tab that
 * takes the lock first waits (2 s at most) until its copy shows that save.
 *
 * Web Storage is readable by every script on the origin: keep the page free
 * of scripts you do not trust (a Content-Security-Policy helps).
 *
 * @example Tokens kept for this tab
 * ```ts
 * import { WebStorageTokenStore } from "@looker-oauth/pkce/browser";
 *
 * const store = new WebStorageTokenStore({ storage: sessionStorage });
 * await store.save({ accessToken: "a", tokenType: "bearer", expiresAt: 0 });
 * if ((await store.load())?.accessToken !== "a") throw new Error("not kept");
 * await store.clear();
 * ```
 *
 * @example Tokens shared by the tabs of the origin, refreshed once
 * ```ts ignore
 * import { BrowserAuth } from "@looker-oauth/pkce/browser";
 *
 * const auth = new BrowserAuth({
 *   lookerUrl: "https://example.looker.com",
 *   clientId: "my-app",
 *   storage: localStorage,
 * });
 * ```
 */
export class WebStorageTokenStore implements TokenStore {
  /** The storage the tokens are kept in. */
  readonly storage: Storage;
  /** The key they are kept under. */
  readonly key: string;
  #queue: Promise<unknown> = Promise.resolve();
  #release: (() => void) | undefined;

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
    const id = crypto.randomUUID();
    this.storage.setItem(
      this.key,
      JSON.stringify({ ...tokens, [SAVE_ID]: id }),
    );
    this.#announce(id);
    return Promise.resolve();
  }

  /**
   * Forgets the tokens.
   *
   * @returns When removed.
   */
  clear(): Promise<void> {
    this.storage.removeItem(this.key);
    this.#announce("");
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
    const locks = this.#sharedLocks();
    if (locks) {
      return locks.request(this.key, async () => {
        await this.#catchUp(locks);
        return await fn();
      });
    }
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #sharedLocks(): LockManagerLike | undefined {
    const locks = lockManager();
    return locks && this.storage === page.localStorage ? locks : undefined;
  }

  /**
   * Holds a lock named `KEY#TIME#ID` until this store saves again (or the
   * tab closes): the lock manager, unlike each tab's copy of the storage,
   * is the same for every tab the moment the lock is granted.
   */
  #announce(id: string): void {
    const locks = this.#sharedLocks();
    if (!locks) return;
    this.#release?.();
    const held = new Promise<void>((resolve) => this.#release = resolve);
    locks.request(`${this.key}#${Date.now()}#${id}`, () => held).catch(
      () => {},
    );
  }

  /** Waits until this tab's copy of the storage shows the latest save. */
  async #catchUp(locks: LockManagerLike): Promise<void> {
    const prefix = `${this.key}#`;
    let latest: { at: number; id: string } | undefined;
    for (const { name } of (await locks.query()).held ?? []) {
      if (!name?.startsWith(prefix)) continue;
      const [at, id = ""] = name.slice(prefix.length).split("#");
      if (!latest || Number(at) > latest.at) latest = { at: Number(at), id };
    }
    const want = latest?.id;
    const current = () => savedBy(this.storage.getItem(this.key)) === want;
    if (want === undefined || current()) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        page.removeEventListener?.("storage", changed);
        resolve();
      };
      const changed = () => current() && done();
      const timer = setTimeout(done, CATCH_UP_MS);
      page.addEventListener?.("storage", changed);
    });
  }
}

/** The save id in stored text; `""` when nothing is stored. */
function savedBy(text: string | null): string {
  if (!text) return "";
  try {
    return String(JSON.parse(text)?.[SAVE_ID] ?? "");
  } catch {
    return "";
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
      const { [SAVE_ID]: _, ...tokens } = value;
      return tokens;
    }
  } catch {
    // not JSON: as if signed out
  }
  return undefined;
}
