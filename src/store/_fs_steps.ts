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
  | { readonly op: "readText"; readonly path: string };

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

/**
 * `Deno.readTextFile`: the whole file, decoded as UTF-8 (an invalid sequence
 * becomes U+FFFD). One call, no `Deno.FsFile` and no `TextDecoder`: on the
 * `token` path that is 1 MiB less peak memory than opening the file and
 * reading it in bounded chunks (docs/architecture.md, "Keeping `token`
 * fast", rule 4).
 */
export function* readText(path: string): FsSteps<string> {
  return (yield { op: "readText", path }) as string;
}

function performSync(step: FsStep): unknown {
  switch (step.op) {
    case "stat":
      return Deno.statSync(step.path);
    case "lstat":
      return Deno.lstatSync(step.path);
    case "chmod":
      return Deno.chmodSync(step.path, step.mode);
    case "readText":
      return Deno.readTextFileSync(step.path);
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
    case "readText":
      return Deno.readTextFile(step.path);
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
