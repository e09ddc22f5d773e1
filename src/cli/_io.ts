// Private: what a command may touch, so handlers stay testable.

/** The command's view of the process. */
export interface Io {
  /** Writes a result to stdout (the token, JSON, API bodies). */
  out(text: string): void;
  /** Writes raw bytes to stdout. */
  outBytes(bytes: Uint8Array): void;
  /** Writes a line for people to stderr. */
  err(text: string): void;
  /** Whether stdout is a terminal. */
  readonly stdoutIsTty: boolean;
  /** Whether stderr is a terminal (colours, progress). */
  readonly stderrIsTty: boolean;
  /** Environment variables. */
  env(name: string): string | undefined;
  /** The clock, epoch ms. */
  now(): number;
  /** Whether --debug was given. */
  readonly debugging: boolean;
  /** Debug lines (--debug), never with secrets. */
  debug(text: string): void;
}

/** The real process. */
export function processIo(debug = false): Io {
  const encoder = new TextEncoder();
  return {
    out: (text) => writeAll(Deno.stdout, encoder.encode(text)),
    outBytes: (bytes) => writeAll(Deno.stdout, bytes),
    err: (text) => writeAll(Deno.stderr, encoder.encode(`${text}\n`)),
    stdoutIsTty: Deno.stdout.isTerminal(),
    stderrIsTty: Deno.stderr.isTerminal(),
    env: (name) => Deno.env.get(name),
    now: () => Date.now(),
    debugging: debug,
    debug: debug
      ? (text) => writeAll(Deno.stderr, encoder.encode(`debug: ${text}\n`))
      : () => {},
  };
}

function writeAll(
  stream: { writeSync(p: Uint8Array): number },
  bytes: Uint8Array,
): void {
  let written = 0;
  try {
    while (written < bytes.length) {
      written += stream.writeSync(bytes.subarray(written));
    }
  } catch (err) {
    // A closed pipe (`looker-oauth token | head -c 8`) is not an error.
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  }
}

/** Reads stdin line by line. */
export async function* stdinLines(): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Deno.stdin.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      yield buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered) yield buffered;
}
