// Private: file-system work written once, run blocking or asynchronously.
//
// A check that reads the disk (trust a folder, load a token file) is a
// generator that yields the file-system calls it needs and gets their results
// back (or their errors thrown in, so its own try/catch sees them). `runSync`
// performs each call with Deno's blocking API, for short-lived programs where
// starting the asynchronous file machinery costs more than the read (the
// CLI's `token`); `runAsync` with the asynchronous one, so a long-lived program
// gives way to other work between the calls. Both run the same checks.

/** One file-system call a generator asks for. */
export type FsStep =
  | { readonly op: "stat"; readonly path: string }
  | { readonly op: "lstat"; readonly path: string }
  | { readonly op: "chmod"; readonly path: string; readonly mode: number }
  | { readonly op: "open"; readonly path: string }
  | {
    readonly op: "read";
    readonly file: Deno.FsFile;
    readonly buffer: Uint8Array;
  };

/** Steps that end with a `T`. */
export type FsSteps<T> = Generator<FsStep, T, unknown>;

/** `Deno.stat`: follows a symlink. */
export function* stat(path: string): FsSteps<Deno.FileInfo> {
  return (yield { op: "stat", path }) as Deno.FileInfo;
}

/** `Deno.lstat`: the link itself. */
export function* lstat(path: string): FsSteps<Deno.FileInfo> {
  return (yield { op: "lstat", path }) as Deno.FileInfo;
}

/** `Deno.chmod`. */
export function* chmod(path: string, mode: number): FsSteps<void> {
  yield { op: "chmod", path, mode };
}

/** `Deno.open` for reading; the caller closes the file. */
export function* openForReading(path: string): FsSteps<Deno.FsFile> {
  return (yield { op: "open", path }) as Deno.FsFile;
}

/** `file.read`: the number of bytes read, `null` at the end. */
export function* read(
  file: Deno.FsFile,
  buffer: Uint8Array,
): FsSteps<number | null> {
  return (yield { op: "read", file, buffer }) as number | null;
}

function performSync(step: FsStep): unknown {
  switch (step.op) {
    case "stat":
      return Deno.statSync(step.path);
    case "lstat":
      return Deno.lstatSync(step.path);
    case "chmod":
      return Deno.chmodSync(step.path, step.mode);
    case "open":
      return Deno.openSync(step.path, { read: true });
    case "read":
      return step.file.readSync(step.buffer);
  }
}

function performAsync(step: FsStep): Promise<unknown> {
  switch (step.op) {
    case "stat":
      return Deno.stat(step.path);
    case "lstat":
      return Deno.lstat(step.path);
    case "chmod":
      return Deno.chmod(step.path, step.mode);
    case "open":
      return Deno.open(step.path, { read: true });
    case "read":
      return step.file.read(step.buffer);
  }
}

/** Runs `steps` with blocking calls. */
export function runSync<T>(steps: FsSteps<T>): T {
  let next = steps.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = performSync(next.value);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}

/** Runs `steps` with asynchronous calls, awaiting each. */
export async function runAsync<T>(steps: FsSteps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = await performAsync(next.value);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}
