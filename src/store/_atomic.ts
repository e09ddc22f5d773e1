// Private: durable, atomic file writes with owner-only permissions.

const IS_WINDOWS = Deno.build.os === "windows";

/** Creates `dir` (and parents) and makes it 0700. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!IS_WINDOWS) {
    const info = await Deno.stat(dir);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      await Deno.chmod(dir, 0o700);
    }
  }
}

/**
 * Writes `data` to `path` atomically: a new 0600 temp file in the same
 * folder, fsynced, then renamed over `path`. On any failure the temp file is
 * removed and `path` is left as it was.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
): Promise<void> {
  const { dir, name } = split(path);
  const random = crypto.getRandomValues(new Uint32Array(2)).join("");
  const temp = `${dir}/.${name}.${random}.tmp`;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(temp, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    const bytes = new TextEncoder().encode(data);
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
    await file.sync();
    file.close();
    file = undefined;
    await Deno.rename(temp, path);
  } catch (err) {
    try {
      file?.close();
    } catch {
      // already closed
    }
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

/**
 * Checks that a file could be written next to `path`: writes a 4 KiB temp
 * file (named as {@linkcode writeFileAtomic} names its own, so a leftover is
 * tidied the same way) and deletes it. A read-only file system, a full disk
 * or a folder that is not writable fails here, before any work is done that
 * would be lost.
 */
export async function probeWrite(path: string): Promise<void> {
  const { dir, name } = split(path);
  const random = crypto.getRandomValues(new Uint32Array(2)).join("");
  const temp = `${dir}/.${name}.${random}.tmp`;
  const file = await Deno.open(temp, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    const bytes = new Uint8Array(4096).fill(0x20);
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
  } finally {
    file.close();
    await Deno.remove(temp).catch(() => {});
  }
}

/**
 * Deletes the temp files {@linkcode writeFileAtomic} left next to `path`
 * when it was killed mid-write (`.<name>.<digits>.tmp`). Only safe while no
 * other write of `path` can be under way: call it holding `path`'s lock.
 * Best effort; errors are ignored.
 */
export async function removeLeftovers(path: string): Promise<void> {
  const { dir, name } = split(path);
  const prefix = `.${name}.`;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (
        entry.isFile && entry.name.startsWith(prefix) &&
        /^\d+\.tmp$/.test(entry.name.slice(prefix.length))
      ) {
        await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
      }
    }
  } catch {
    // the file is saved; tidying up can wait for the next save
  }
}

function split(path: string): { dir: string; name: string } {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return {
    dir: slash >= 0 ? path.slice(0, slash) : ".",
    name: slash >= 0 ? path.slice(slash + 1) : path,
  };
}
