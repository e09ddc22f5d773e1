// Private: whether the state folder and its files can be trusted, in the
// manner of OpenSSH's StrictModes. A folder or file another local user can
// write could have been swapped (a config.json naming their API host, a token
// file of their own), so before anything is read from it:
//
// - it must belong to the current user (where the user id can be known);
// - if others may write it (or, for the token folder and files, read it) it
//   is made private (folders 0700, files 0600), with a warning; when that is
//   impossible it is refused.
//
// Windows has no such mode bits and Deno exposes no owner there: no check.
import { TokenStoreError } from "./errors.ts";
import { chmod, type FsSteps, runAsync, stat } from "./_fs_steps.ts";

const IS_WINDOWS = Deno.build.os === "windows";

/** What a path should be. */
export type Kind = "folder" | "file";

/**
 * How private: `secret` paths (tokens/ and token files) may not be readable
 * by others either; the state folder and config.json only not writable.
 */
export type Privacy = "secret" | "shared";

let uidCache: number | null | undefined;

/**
 * The current user's id, without asking for a permission that was not
 * granted: `Deno.uid()` needs `--allow-sys=uid` (the CLI has it); without it
 * `null`, and only the mode bits are checked.
 */
export function currentUid(): number | null {
  if (uidCache !== undefined) return uidCache;
  uidCache = null;
  try {
    if (
      Deno.permissions.querySync({ name: "sys", kind: "uid" }).state ===
        "granted"
    ) {
      uidCache = Deno.uid();
    }
  } catch {
    uidCache = null;
  }
  return uidCache;
}

function quote(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}

/**
 * Checks `info` (of `path`) for ownership and permissions. Returns the mode
 * to tighten to, or `undefined` when it is fine.
 *
 * @throws {TokenStoreError} `unsafe_permissions` when another user owns it.
 */
function verdict(
  path: string,
  info: Deno.FileInfo,
  kind: Kind,
  privacy: Privacy,
): number | undefined {
  if (IS_WINDOWS) return undefined;
  const uid = currentUid();
  // As OpenSSH: root may own the state folder and config.json (set up by an
  // administrator), never the tokens.
  const owner = info.uid;
  if (
    uid !== null && owner !== null && owner !== uid &&
    !(owner === 0 && privacy === "shared")
  ) {
    throw new TokenStoreError(
      "unsafe_permissions",
      `${path} belongs to another user (uid ${owner}); refusing to trust it`,
      {
        path,
        hint: `if it is yours, run: chown ${uid} ${quote(path)} && chmod ${
          kind === "folder" ? "700" : "600"
        } ${quote(path)}; otherwise delete it`,
      },
    );
  }
  const open = privacy === "secret" ? 0o077 : 0o022;
  if (info.mode !== null && (info.mode & open) !== 0) {
    return kind === "folder" ? 0o700 : 0o600;
  }
  return undefined;
}

function tightened(
  path: string,
  info: Deno.FileInfo,
  mode: number,
  warn: (message: string) => void,
): void {
  const was = ((info.mode ?? 0) & 0o777).toString(8).padStart(4, "0");
  const writable = ((info.mode ?? 0) & 0o022) !== 0;
  warn(
    `${path} was ${
      writable ? "writable" : "readable"
    } by others (mode ${was}); its mode is now 0${mode.toString(8)}`,
  );
}

function cannotTighten(path: string, mode: number, err: unknown) {
  return new TokenStoreError(
    "unsafe_permissions",
    `${path} is open to other users and could not be made private: ${
      err instanceof Error ? err.message : String(err)
    }`,
    {
      path,
      cause: err,
      hint: `run: chmod ${mode.toString(8)} ${quote(path)}`,
    },
  );
}

/**
 * Checks a path already `stat`ed; tightens its mode if needed.
 *
 * @throws {TokenStoreError} `unsafe_permissions`.
 */
export function* trustSteps(
  path: string,
  info: Deno.FileInfo,
  kind: Kind,
  warn: (message: string) => void,
  privacy: Privacy = "secret",
): FsSteps<void> {
  const mode = verdict(path, info, kind, privacy);
  if (mode === undefined) return;
  try {
    yield* chmod(path, mode);
  } catch (err) {
    throw cannotTighten(path, mode, err);
  }
  tightened(path, info, mode, warn);
}

/** {@linkcode trustSteps}, run asynchronously. */
export function trust(
  path: string,
  info: Deno.FileInfo,
  kind: Kind,
  warn: (message: string) => void,
  privacy: Privacy = "secret",
): Promise<void> {
  return runAsync(trustSteps(path, info, kind, warn, privacy));
}

/**
 * Checks a folder (following a symlink to it); `false` when it does not
 * exist.
 *
 * @throws {TokenStoreError} `unsafe_permissions`, or `read_failed`.
 */
export function* trustFolderSteps(
  path: string,
  warn: (message: string) => void,
  privacy: Privacy = "secret",
): FsSteps<boolean> {
  let info: Deno.FileInfo;
  try {
    info = yield* stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw statFailed(path, err);
  }
  if (!info.isDirectory) throw notAFolder(path);
  yield* trustSteps(path, info, "folder", warn, privacy);
  return true;
}

/** {@linkcode trustFolderSteps}, run asynchronously. */
export function trustFolder(
  path: string,
  warn: (message: string) => void,
  privacy: Privacy = "secret",
): Promise<boolean> {
  return runAsync(trustFolderSteps(path, warn, privacy));
}

function notAFolder(path: string): TokenStoreError {
  return new TokenStoreError("read_failed", `${path} is not a folder`, {
    path,
    hint: "move it away; looker-oauth keeps its state in a folder there",
  });
}

function statFailed(path: string, err: unknown): TokenStoreError {
  return new TokenStoreError(
    "read_failed",
    `could not read ${path}: ${err instanceof Error ? err.message : err}`,
    { path, cause: err, hint: fileSystemHint(err, path) },
  );
}

/**
 * What a person can do about a failed file-system call on `path`.
 *
 * @param err The error Deno raised.
 * @param path The file or folder concerned.
 * @returns A hint.
 */
export function fileSystemHint(err: unknown, path: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const folder = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || path;
  if (code === "EROFS" || /os error 30\b/.test(message)) {
    return `the file system holding ${folder} is read-only: set LOOKER_OAUTH_HOME to a writable folder`;
  }
  if (
    code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG" ||
    /os error (28|122|27)\b/.test(message)
  ) {
    return `the disk holding ${folder} is full (or over quota): free some space and try again`;
  }
  if (err instanceof Deno.errors.PermissionDenied || code === "EACCES") {
    return `you may not write there: check the owner and mode of ${folder} (ls -ld ${
      quote(folder)
    }), or set LOOKER_OAUTH_HOME to a folder of yours`;
  }
  if (err instanceof Deno.errors.NotCapable) {
    return "grant the file permissions (--allow-read, --allow-write) for this folder";
  }
  return `check ${folder}: that it exists, is yours, and has free space`;
}
