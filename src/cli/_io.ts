// Private: everything a command may touch of the process (output, input,
// environment, working directory, clock, Ctrl-C, the browser), so commands
// run in-process in tests with a scripted Io.

/** Environment variables by name (`Deno.env.get`, or a test's table). */
export type Env = (name: string) => string | undefined;

/** Ctrl-C, watched while a command can be cancelled. */
export interface Interrupt extends Disposable {
  /** Aborts when the person presses Ctrl-C (SIGINT). */
  readonly signal: AbortSignal;
}

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
  /** stdin as bytes; only commands that take input read it. */
  stdin(): ReadableStream<Uint8Array>;
  /** Environment variables. */
  env: Env;
  /** The working directory (where `looker.ini` is looked for). */
  cwd(): string;
  /** The clock, epoch ms. */
  now(): number;
  /**
   * Starts watching Ctrl-C; disposing stops it. While watched, Ctrl-C
   * aborts the signal instead of ending the process.
   */
  interrupt(): Interrupt;
  /**
   * Opens a URL for the person; `undefined`: the system's browser
   * (`$BROWSER`, else the desktop's opener).
   */
  readonly browser?: ((url: URL) => void | Promise<void>) | undefined;
  /** Whether --debug was given. */
  readonly debugging: boolean;
  /** Debug lines (--debug), never with secrets. */
  debug(text: string): void;
}

/** The real process. */
export function processIo(): Io {
  const encoder = new TextEncoder();
  return {
    out: (text) => writeAll(Deno.stdout, encoder.encode(text)),
    outBytes: (bytes) => writeAll(Deno.stdout, bytes),
    err: (text) => writeAll(Deno.stderr, encoder.encode(`${text}\n`)),
    // Asked when first read: `token` and `api` never need them.
    get stdoutIsTty() {
      return Deno.stdout.isTerminal();
    },
    get stderrIsTty() {
      return Deno.stderr.isTerminal();
    },
    stdin: () => Deno.stdin.readable,
    env: (name) => Deno.env.get(name),
    cwd: () => Deno.cwd(),
    now: () => Date.now(),
    interrupt: () => {
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      Deno.addSignalListener("SIGINT", onSigint);
      return {
        signal: controller.signal,
        [Symbol.dispose]: () => Deno.removeSignalListener("SIGINT", onSigint),
      };
    },
    debugging: false,
    debug: () => {},
  };
}

/** `io` with --debug on: debug lines go to its stderr. */
export function withDebug(io: Io): Io {
  return {
    ...io,
    debugging: true,
    debug: (text) => io.err(`debug: ${text}`),
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

/** Reads a byte stream (stdin) line by line. */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      yield buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered) yield buffered;
}
