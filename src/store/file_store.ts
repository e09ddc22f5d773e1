/**
 * The default token store: one JSON file per profile, owner-only.
 *
 * @module
 */
import type { TokenSet } from "../core/token.ts";
import type { TokenStore } from "../core/store.ts";
import { TokenStoreError } from "./errors.ts";
import { ensurePrivateDir, writeFileAtomic } from "./_atomic.ts";

// At most 64 characters, checked apart: a bounded repeat ({0,63}) makes V8
// compile a much larger regular expression on every `token` call.
const PROFILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const IS_WINDOWS = Deno.build.os === "windows";

/** Options for {@linkcode FileTokenStore}. */
export interface FileTokenStoreOptions {
  /** The state folder (see {@linkcode stateHome}). */
  home: string;
  /** The profile name; a plain file name. Default `default`. */
  profile?: string;
  /**
   * Called with a one-line message when a file is ignored (corrupt) or its
   * permissions were tightened.
   */
  onWarning?: (message: string) => void;
}

/**
 * Keeps tokens in `<home>/tokens/<profile>.json`: the file is 0600 in a 0700
 * folder, written to a temp file, fsynced and renamed, so a crash never leaves
 * half a file. A corrupt file reads as signed out; a symlinked one is refused.
 * {@linkcode FileTokenStore.withLock} takes `<profile>.lock` exclusively, so
 * processes sharing the profile refresh one at a time.
 *
 * @example
 * ```ts ignore
 * import { FileTokenStore, stateHome } from "@looker-oauth/pkce";
 *
 * const store = new FileTokenStore({ home: stateHome(), profile: "default" });
 * const tokens = await store.load();
 * ```
 */
export class FileTokenStore implements TokenStore {
  /** The token file's path. */
  readonly path: string;
  /** The token folder's path. */
  readonly dir: string;
  readonly #lockPath: string;
  readonly #onWarning: (message: string) => void;

  /**
   * Creates a store. Nothing is read or written until first use.
   *
   * @param options The state folder and the profile.
   * @throws {TokenStoreError} `invalid_profile` for a profile name that is not
   *   a plain file name.
   */
  constructor(options: FileTokenStoreOptions) {
    const profile = options.profile ?? "default";
    if (profile.length > 64 || !PROFILE.test(profile)) {
      throw new TokenStoreError(
        "invalid_profile",
        `"${profile}" is not a valid profile name`,
        { hint: "use letters, digits, '.', '_' and '-' (at most 64)" },
      );
    }
    this.dir = `${options.home}/tokens`;
    this.path = `${this.dir}/${profile}.json`;
    this.#lockPath = `${this.dir}/${profile}.lock`;
    this.#onWarning = options.onWarning ?? (() => {});
  }

  /**
   * Reads the tokens. A missing, empty, truncated or corrupt file reads as
   * signed out (with a warning for the last three). A file readable by others
   * is tightened to 0600 first.
   *
   * @returns The tokens, or `undefined`.
   * @throws {TokenStoreError} `symlink_refused`, or `read_failed` when the
   *   file exists but cannot be read.
   */
  async load(): Promise<TokenSet | undefined> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw this.#readFailed(err);
    }
    if (this.#tooOpen(info)) {
      await Deno.chmod(this.path, 0o600);
      this.#tightened();
    }
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw this.#readFailed(err);
    }
    return this.#parse(text);
  }

  /**
   * {@linkcode FileTokenStore.load}, with blocking file calls: for
   * short-lived programs that read once and exit (the CLI's `token`), where
   * starting Deno's asynchronous file machinery costs more than the read.
   *
   * @returns The tokens, or `undefined`.
   * @throws {TokenStoreError} As {@linkcode FileTokenStore.load}.
   */
  loadSync(): TokenSet | undefined {
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw this.#readFailed(err);
    }
    if (this.#tooOpen(info)) {
      Deno.chmodSync(this.path, 0o600);
      this.#tightened();
    }
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw this.#readFailed(err);
    }
    return this.#parse(text);
  }

  /**
   * Saves the tokens atomically (temp file, fsync, rename), 0600 in a 0700
   * folder.
   *
   * @param tokens The tokens.
   * @throws {TokenStoreError} `symlink_refused`, or `write_failed` (the
   *   previous file is intact).
   */
  async save(tokens: TokenSet): Promise<void> {
    try {
      await ensurePrivateDir(this.dir);
      this.#refuseSymlink(await Deno.lstat(this.path).catch(() => undefined));
      await writeFileAtomic(
        this.path,
        JSON.stringify({ version: 1, tokens }, null, 2) + "\n",
      );
    } catch (err) {
      if (err instanceof TokenStoreError) throw err;
      throw new TokenStoreError(
        "write_failed",
        `could not save the tokens to ${this.path}: ${errorText(err)}`,
        {
          path: this.path,
          cause: err,
          hint: "check free disk space and the folder's permissions",
        },
      );
    }
  }

  /**
   * Deletes the token file.
   *
   * @throws {TokenStoreError} `write_failed` when it exists but cannot be
   *   deleted.
   */
  async clear(): Promise<void> {
    try {
      await Deno.remove(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw new TokenStoreError(
        "write_failed",
        `could not delete ${this.path}: ${errorText(err)}`,
        { path: this.path, cause: err },
      );
    }
  }

  /**
   * Runs `fn` holding an exclusive lock on `<profile>.lock`, shared with every
   * process using this profile.
   *
   * @param fn The work to do under the lock.
   * @returns What `fn` returns.
   * @throws {TokenStoreError} `write_failed` when the lock file cannot be
   *   created.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    let file: Deno.FsFile;
    try {
      await ensurePrivateDir(this.dir);
      file = await Deno.open(this.#lockPath, {
        read: true,
        write: true,
        create: true,
        mode: 0o600,
      });
    } catch (err) {
      throw new TokenStoreError(
        "write_failed",
        `could not open the lock file ${this.#lockPath}: ${errorText(err)}`,
        { path: this.#lockPath, cause: err },
      );
    }
    try {
      await file.lock(true);
      return await fn();
    } finally {
      file.close(); // closing releases the lock
    }
  }

  /** Refuses a symlink; whether the file is readable by others. */
  #tooOpen(info: Deno.FileInfo): boolean {
    this.#refuseSymlink(info);
    return !IS_WINDOWS && info.mode !== null && (info.mode & 0o077) !== 0;
  }

  #tightened(): void {
    this.#onWarning(
      `${this.path} was readable by others; its mode is now 0600`,
    );
  }

  #parse(text: string): TokenSet | undefined {
    const tokens = parseTokenFile(text);
    if (!tokens) {
      this.#onWarning(
        `${this.path} is ${
          text.trim() === "" ? "empty" : "not a valid token file"
        }; treating this profile as signed out`,
      );
    }
    return tokens;
  }

  #refuseSymlink(info: Deno.FileInfo | undefined): void {
    if (info?.isSymlink) {
      throw new TokenStoreError(
        "symlink_refused",
        `${this.path} is a symbolic link; refusing to use it`,
        {
          path: this.path,
          hint:
            "delete the link; looker-oauth keeps tokens only in a real file",
        },
      );
    }
  }

  #readFailed(err: unknown): TokenStoreError {
    return new TokenStoreError(
      "read_failed",
      `could not read ${this.path}: ${errorText(err)}`,
      { path: this.path, cause: err },
    );
  }
}

/**
 * Parses a token file's text; `undefined` when it is not one.
 *
 * @param text The file's contents.
 * @returns The tokens, or `undefined`.
 */
export function parseTokenFile(text: string): TokenSet | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const tokens = (data as { tokens?: Record<string, unknown> } | null)?.tokens;
  if (
    !tokens || typeof tokens.accessToken !== "string" ||
    tokens.accessToken === "" || typeof tokens.tokenType !== "string" ||
    typeof tokens.expiresAt !== "number" || !Number.isFinite(tokens.expiresAt)
  ) {
    return undefined;
  }
  for (const key of ["refreshToken", "scope", "idToken"]) {
    if (tokens[key] !== undefined && typeof tokens[key] !== "string") {
      return undefined;
    }
  }
  return tokens as unknown as TokenSet;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
