// Private: an exclusive lock on a file, shared by every process on this
// machine, with a bounded wait that says who it is waiting for.
//
// The lock is the system's (flock on Unix, LockFileEx on Windows), so a
// process that dies releases it at once, however it died. The holder writes
// its process id into the file so that waiters can name it; a live holder
// that does not let go (stopped with Ctrl-Z, say) is waited for at most
// `timeout` ms.
import { TokenStoreError } from "./errors.ts";
import { ensurePrivateDir } from "./_atomic.ts";
import { fileSystemHint } from "./_trust.ts";

/** How long a lock is waited for by default, in ms. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** After this long waiting for a lock, say who holds it. */
const NOTICE_MS = 2_000;

/** How to wait. */
export interface LockOptions {
  /** The longest wait, in ms. Default 30 s. */
  timeout?: number;
  /** Told once, after 2 s of waiting, who holds the lock. */
  onWait?: (message: string) => void;
}

/**
 * Runs `fn` holding an exclusive lock on `path` (created 0600, its folder
 * 0700).
 *
 * @throws {TokenStoreError} `write_failed` when the lock file cannot be
 *   opened, `lock_timeout` when it stayed taken for `timeout` ms.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  let file: Deno.FsFile;
  try {
    await ensurePrivateDir(folderOf(path));
    // The holder writes its pid into the file: never through a link someone
    // left in its place (that would truncate the link's target).
    const info = await Deno.lstat(path).catch(() => undefined);
    if (info && !info.isFile) {
      throw new TokenStoreError(
        "symlink_refused",
        `the lock file ${path} is ${
          info.isSymlink ? "a symbolic link" : "not a regular file"
        }; refusing to use it`,
        { path, hint: `delete it: rm ${JSON.stringify(path)}` },
      );
    }
    file = await Deno.open(path, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch (err) {
    if (err instanceof TokenStoreError) throw err;
    throw new TokenStoreError(
      "write_failed",
      `could not open the lock file ${path}: ${
        err instanceof Error ? err.message : err
      }`,
      { path, cause: err, hint: fileSystemHint(err, path) },
    );
  }
  try {
    await acquire(file, path, options);
    // Who holds it, for those who wait (best effort: the lock is what counts).
    try {
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    } catch {
      // a lock without a name still excludes
    }
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}

async function acquire(
  file: Deno.FsFile,
  path: string,
  options: LockOptions,
): Promise<void> {
  if (await file.tryLock(true)) return;
  const timeout = options.timeout ?? DEFAULT_LOCK_TIMEOUT_MS;
  const started = Date.now();
  let told = false;
  let delay = 5;
  for (;;) {
    const waited = Date.now() - started;
    if (waited >= timeout) {
      const holder = await holderOf(path);
      throw new TokenStoreError(
        "lock_timeout",
        `gave up after ${
          Math.round(waited / 100) / 10
        } s waiting for ${holder.name}, which holds the lock ${path}`,
        {
          path,
          hint:
            `if that process is stopped (Ctrl-Z), resume it ('fg') or end it${
              holder.pid ? ` (kill ${holder.pid})` : ""
            }; to wait longer, set LOOKER_OAUTH_LOCK_TIMEOUT (seconds)`,
        },
      );
    }
    if (!told && waited >= NOTICE_MS) {
      told = true;
      options.onWait?.(
        `waiting for ${
          (await holderOf(path)).name
        }, which holds the lock ${path} (giving up in ${
          Math.ceil((timeout - waited) / 1000)
        } s)`,
      );
    }
    // Only a contended lock gets here: the uncontended path starts no timer.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(delay, Math.max(timeout - waited, 1)))
    );
    delay = Math.min(delay * 2, 25);
    if (await file.tryLock(true)) return;
  }
}

/** The process the lock file names. */
async function holderOf(
  path: string,
): Promise<{ name: string; pid?: string }> {
  try {
    const pid = (await Deno.readTextFile(path)).trim();
    if (/^[1-9][0-9]{0,9}$/.test(pid)) return { name: `process ${pid}`, pid };
  } catch {
    // unreadable: say no more
  }
  return { name: "another process" };
}

function folderOf(path: string): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return slash > 0 ? path.slice(0, slash) : ".";
}
