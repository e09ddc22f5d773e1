/**
 * The default token store: one JSON file per profile, owner-only.
 *
 * @module
 */
import type { TokenSet } from "../core/token.ts";
import type { TokenStore } from "../core/store.ts";
import { TokenStoreError } from "./errors.ts";
import {
  ensurePrivateDir,
  probeWrite,
  removeLeftovers,
  writeFileAtomic,
} from "./_atomic.ts";
import { withFileLock } from "./_lock.ts";
import {
  fileSystemHint,
  trustFolder,
  trustFolderSteps,
  trustSteps,
} from "./_trust.ts";
import {
  type FsSteps,
  lstat,
  readText,
  runAsync,
  runSync,
} from "./_fs_steps.ts";

// At most 64 characters, checked apart: a bounded repeat ({0,63}) makes V8
// compile a much larger regular expression on every `token` call.
const PROFILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A token file is a few KB; anything bigger is not one. */
const MAX_TOKEN_FILE_BYTES: number = 1024 * 1024;

/**
 * The sign-in a token file belongs to: saved with the tokens and checked on
 * load, so tokens from one sign-in are never used with another's settings
 * (two logins of one profile at once, each with its own client).
 */
export interface TokenBinding {
  /** The client id the tokens were issued to. */
  clientId: string;
  /** The server they were issued by (an issuer or an API URL). */
  server: string;
}

/** Options for {@linkcode FileTokenStore}. */
export interface FileTokenStoreOptions {
  /** The state folder (see {@linkcode stateHome}). */
  home: string;
  /** The profile name; a plain file name. Default `default`. */
  profile?: string;
  /**
   * Saved with the tokens; on load, a file saved for another binding reads
   * as signed out. Without it, any binding is accepted.
   */
  binding?: TokenBinding;
  /**
   * How long {@linkcode FileTokenStore.withLock} waits for another process
   * to release the lock, in ms. Default 30 s.
   */
  lockTimeout?: number;
  /**
   * Called with a one-line message when a file is ignored (corrupt, too big,
   * not a regular file, another sign-in's), its permissions were tightened,
   * or the lock has been waited for a while (naming the process holding it).
   */
  onWarning?: (message: string) => void;
}

/**
 * Keeps tokens in `<home>/tokens/<profile>.json`: the file is 0600 in a 0700
 * folder, written to a temp file, fsynced and renamed, so a crash never leaves
 * half a file. A corrupt file reads as signed out; a symlinked one is refused.
 *
 * Before reading, the state folder, `tokens/` and the file must belong to the
 * current user (checked where Deno tells the user id: with
 * `--allow-sys=uid`, not on Windows); if others may write them (or read the
 * tokens) they are made private, or refused when that fails, as OpenSSH's
 * StrictModes does.
 *
 * {@linkcode FileTokenStore.withLock} takes `<profile>.lock` exclusively, so
 * processes sharing the profile refresh one at a time; it waits at most
 * {@linkcode FileTokenStoreOptions.lockTimeout}.
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
  readonly #options: FileTokenStoreOptions;
  readonly #lockPath: string;
  readonly #name: string;
  readonly #onWarning: (message: string) => void;
  /** How many {@linkcode withLock} calls of this store are inside `fn`. */
  #held = 0;

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
    this.#options = options;
    this.dir = `${options.home}/tokens`;
    this.#name = `${profile}.json`;
    this.path = `${this.dir}/${this.#name}`;
    this.#lockPath = `${this.dir}/${profile}.lock`;
    this.#onWarning = options.onWarning ?? (() => {});
  }

  /**
   * The same store, checking and saving `binding`.
   *
   * @param binding The sign-in the tokens must belong to.
   * @returns A new store.
   */
  withBinding(binding: TokenBinding): FileTokenStore {
    return new FileTokenStore({ ...this.#options, binding });
  }

  /**
   * Reads the tokens. A missing, empty, truncated, corrupt, oversized file,
   * one that is not a regular file, or one saved for another
   * {@linkcode TokenBinding}, reads as signed out (with a warning for all but
   * the first). A file readable by others is tightened to 0600 first.
   *
   * @returns The tokens, or `undefined`.
   * @throws {TokenStoreError} `symlink_refused`, `unsafe_permissions`, or
   *   `read_failed` when the file exists but cannot be read.
   */
  async load(): Promise<TokenSet | undefined> {
    return await runAsync(this.#loadSteps());
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
    return runSync(this.#loadSteps());
  }

  /** The checks and reads of a load, for either driver. */
  *#loadSteps(): FsSteps<TokenSet | undefined> {
    const warn = this.#onWarning;
    if (!(yield* trustFolderSteps(this.#options.home, warn, "shared"))) {
      return undefined;
    }
    if (!(yield* trustFolderSteps(this.dir, warn))) return undefined;
    let info: Deno.FileInfo;
    try {
      info = yield* lstat(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw this.#readFailed(err);
    }
    if (!this.#readable(info)) return undefined;
    yield* trustSteps(this.path, info, "file", warn);
    // Read whole: the size, the type (a regular file, no symlink) and the
    // owner-only folder were checked just above, so only its owner could
    // swap the file in between; the length is checked again below.
    let text: string;
    try {
      text = yield* readText(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw this.#readFailed(err);
    }
    return this.#parse(text);
  }

  /**
   * Saves the tokens atomically (temp file, fsync, rename), 0600 in a 0700
   * folder. Called inside {@linkcode FileTokenStore.withLock}, it also
   * removes temp files that earlier saves of this profile left behind when
   * they were killed.
   *
   * @param tokens The tokens.
   * @throws {TokenStoreError} `symlink_refused`, or `write_failed` (the
   *   previous file is intact).
   */
  async save(tokens: TokenSet): Promise<void> {
    const binding = this.#options.binding;
    try {
      await ensurePrivateDir(this.dir);
      this.#refuseSymlink(await Deno.lstat(this.path).catch(() => undefined));
      await writeFileAtomic(
        this.path,
        JSON.stringify(
          binding
            ? {
              version: 1,
              clientId: binding.clientId,
              server: binding.server,
              tokens,
            }
            : { version: 1, tokens },
          null,
          2,
        ) + "\n",
      );
    } catch (err) {
      if (err instanceof TokenStoreError) throw err;
      throw new TokenStoreError(
        "write_failed",
        `could not save the tokens to ${this.path}: ${errorText(err)}`,
        { path: this.path, cause: err, hint: fileSystemHint(err, this.path) },
      );
    }
    if (this.#held > 0) await removeLeftovers(this.path);
  }

  /**
   * Checks, before a sign-in, that {@linkcode FileTokenStore.save} will be
   * able to write: creates the folders (0700), checks they can be trusted,
   * refuses a symlinked token file or a folder in its place, and writes and
   * deletes a small probe file next to it (a read-only or full disk fails
   * here rather than after the person has signed in).
   *
   * @throws {TokenStoreError} `write_failed` (naming the file, with a hint),
   *   `symlink_refused` or `unsafe_permissions`.
   */
  async checkWritable(): Promise<void> {
    try {
      await ensurePrivateDir(this.dir);
    } catch (err) {
      throw new TokenStoreError(
        "write_failed",
        `cannot create ${this.dir}: ${errorText(err)}`,
        { path: this.dir, cause: err, hint: fileSystemHint(err, this.dir) },
      );
    }
    await trustFolder(this.#options.home, this.#onWarning, "shared");
    await trustFolder(this.dir, this.#onWarning);
    const info = await Deno.lstat(this.path).catch(() => undefined);
    this.#refuseSymlink(info);
    if (info?.isDirectory) {
      throw new TokenStoreError(
        "write_failed",
        `${this.path} is a folder; the tokens cannot be saved there`,
        { path: this.path, hint: "move it away, then sign in again" },
      );
    }
    try {
      await probeWrite(this.path);
    } catch (err) {
      throw new TokenStoreError(
        "write_failed",
        `cannot write in ${this.dir}: ${errorText(err)}`,
        { path: this.path, cause: err, hint: fileSystemHint(err, this.path) },
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
        { path: this.path, cause: err, hint: fileSystemHint(err, this.path) },
      );
    }
  }

  /**
   * Runs `fn` holding an exclusive lock on `<profile>.lock`, shared with every
   * process using this profile. The lock file names the holder's process id.
   * A lock of a process that died is free at once (the system releases it);
   * one held by a live process is waited for, with a warning after 2 s that
   * names it, for at most {@linkcode FileTokenStoreOptions.lockTimeout}.
   *
   * @param fn The work to do under the lock.
   * @returns What `fn` returns.
   * @throws {TokenStoreError} `write_failed` when the lock file cannot be
   *   created, `lock_timeout` when it stayed taken too long.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lockTimeout = this.#options.lockTimeout;
    return await withFileLock(this.#lockPath, async () => {
      this.#held++;
      try {
        return await fn();
      } finally {
        this.#held--;
      }
    }, {
      onWait: this.#onWarning,
      ...(lockTimeout === undefined ? {} : { timeout: lockTimeout }),
    });
  }

  /** Whether a token file with this `lstat` may be read at all. */
  #readable(info: Deno.FileInfo): boolean {
    this.#refuseSymlink(info);
    if (!info.isFile) {
      this.#ignored("not a regular file");
      return false;
    }
    if (info.size > MAX_TOKEN_FILE_BYTES) {
      this.#ignored(`larger than ${MAX_TOKEN_FILE_BYTES} bytes`);
      return false;
    }
    return true;
  }

  #ignored(why: string): void {
    this.#onWarning(
      `${this.path} is ${why}; treating this profile as signed out`,
    );
  }

  #parse(text: string): TokenSet | undefined {
    if (text.length > MAX_TOKEN_FILE_BYTES) {
      this.#ignored(`larger than ${MAX_TOKEN_FILE_BYTES} bytes`);
      return undefined;
    }
    // U+FFFD: bytes that are not UTF-8 (this store never writes one).
    if (text.includes("\uFFFD")) {
      this.#ignored("not a valid token file");
      return undefined;
    }
    const file = parseTokenFile(text);
    if (!file) {
      this.#ignored(
        text.trim() === "" ? "empty" : "not a valid token file",
      );
      return undefined;
    }
    const binding = this.#options.binding;
    if (
      binding && file.binding &&
      (file.binding.clientId !== binding.clientId ||
        file.binding.server !== binding.server)
    ) {
      this.#ignored(
        `from another sign-in (client ${file.binding.clientId} at ${file.binding.server}, not ${binding.clientId} at ${binding.server})`,
      );
      return undefined;
    }
    return file.tokens;
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
      { path: this.path, cause: err, hint: fileSystemHint(err, this.path) },
    );
  }
}

/** A parsed token file. */
interface TokenFile {
  /** The tokens. */
  tokens: TokenSet;
  /** The sign-in they belong to, when the file says. */
  binding?: TokenBinding;
}

// RFC 6749 Appendix A: tokens are VSCHAR (%x20-7E), as the core requires of
// a token answer; they go into headers and onto terminals. The other text
// fields are whatever the server sent (shown sanitized): strings, the token
// type not empty. Lengths are bounded by the file's size cap.
const PRINTABLE = /^[\x20-\x7e]+$/;
const ANY = /^[^]+$/;
const ANY_OR_EMPTY = /^[^]*$/;
/** The last instant a JavaScript Date can hold (ECMA-262 21.4.1.1). */
const MAX_TIME = 8.64e15;

function field(
  value: unknown,
  optional: boolean,
  chars: RegExp = PRINTABLE,
): string | undefined | null {
  if (value === undefined && optional) return undefined;
  if (typeof value !== "string" || !chars.test(value)) return null;
  return value;
}

/**
 * Parses a token file's text, checking every field's type and range;
 * `undefined` when it is not a token file.
 *
 * @param text The file's contents.
 * @returns The tokens and their binding, or `undefined`.
 */
function parseTokenFile(text: string): TokenFile | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(data) || data.version !== 1 || !isRecord(data.tokens)) {
    return undefined;
  }
  const raw = data.tokens;
  const accessToken = field(raw.accessToken, false);
  const tokenType = field(raw.tokenType, false, ANY);
  const refreshToken = field(raw.refreshToken, true);
  const scope = field(raw.scope, true, ANY_OR_EMPTY);
  const idToken = field(raw.idToken, true, ANY_OR_EMPTY);
  const expiresAt = raw.expiresAt;
  if (
    accessToken === null || accessToken === undefined || !tokenType ||
    refreshToken === null || scope === null ||
    idToken === null || typeof expiresAt !== "number" ||
    !Number.isFinite(expiresAt) || expiresAt < 0 || expiresAt > MAX_TIME
  ) {
    return undefined;
  }
  const tokens: TokenSet = {
    accessToken,
    tokenType,
    expiresAt,
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(scope === undefined ? {} : { scope }),
    ...(idToken === undefined ? {} : { idToken }),
  };
  if (data.clientId === undefined && data.server === undefined) {
    return { tokens };
  }
  const clientId = field(data.clientId, false, ANY);
  const server = field(data.server, false, ANY);
  if (!clientId || !server) return undefined;
  return { tokens, binding: { clientId, server } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
