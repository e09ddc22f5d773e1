// Private: one place that turns any error into a message, a hint and an
// exit code. Messages never include secrets (the library guarantees it for
// its own errors); unknown errors print their message only, no stack.
import { UsageError } from "./_args.ts";
import type { Io } from "./_io.ts";
import { shownLines } from "./_text.ts";

/** Exit codes (docs/architecture.md, "The CLI's contract"). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  signIn: 3,
  interrupted: 130,
} as const;

/** An error the CLI raises itself, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(
    message: string,
    options: { exitCode?: number; hint?: string; cause?: unknown } = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "CliError";
    this.exitCode = options.exitCode ?? EXIT.failure;
    this.hint = options.hint;
  }
}

interface Coded {
  name: string;
  code?: unknown;
  hint?: unknown;
  message: string;
}

/**
 * Prints `err` on stderr and returns the exit code. Messages may quote a
 * server (an error description, a name): their control characters are
 * replaced.
 */
export function report(err: unknown, io: Io, command?: string): number {
  const prefix = "looker-oauth:";
  const say = (text: string) => io.err(shownLines(text));
  if (err instanceof UsageError) {
    say(`${prefix} ${err.message}`);
    const which = err.command ?? command;
    io.err(`Run 'looker-oauth ${which ? `${which} ` : ""}--help' for usage.`);
    return EXIT.usage;
  }
  if (err instanceof CliError) {
    say(`${prefix} ${err.message}`);
    if (err.hint) say(`hint: ${err.hint}`);
    return err.exitCode;
  }
  const tls = certificateProblem(err);
  if (tls) {
    io.err(`${prefix} the server's TLS certificate was refused: ${tls}`);
    io.err(`hint: ${certificateHint(tls)}`);
    return EXIT.failure;
  }
  if (err instanceof Error) {
    // Matched by name and code rather than instanceof: importing the error
    // classes here would put core modules on the `token` fast path.
    const e = err as Coded;
    let exit: number = EXIT.failure;
    let hint = typeof e.hint === "string" ? e.hint : undefined;
    if (e.name === "OAuthError") {
      if (e.code === "login_required") {
        exit = EXIT.signIn;
        hint = "sign in again: looker-oauth login";
      }
      if (e.code === "insecure_http") {
        hint =
          "use https://; to allow plain http to a host that is not this machine, pass --insecure-http";
      }
    }
    if (e.name === "LoginError" && e.code === "cancelled") {
      say(`${prefix} ${e.message}`);
      return EXIT.interrupted;
    }
    say(`${prefix} ${e.message}`);
    if (hint) say(`hint: ${hint}`);
    if (
      !["OAuthError", "LoginError", "TokenStoreError", "LookerApiError"]
        .includes(
          e.name,
        )
    ) {
      io.debug(err.stack ?? "");
    }
    return exit;
  }
  say(`${prefix} ${String(err)}`);
  return EXIT.failure;
}

/** What to do about a refused certificate (also `login`'s verify_ssl note). */
export const UNTRUSTED_CERTIFICATE_HINT =
  "if it is signed by a private (company) CA, trust that CA's certificate for this instance: --ca-file PEM (or LOOKER_OAUTH_CA_FILE, or ca_file in looker.ini); looker-oauth never turns certificate checks off";

/**
 * What to do about the certificate problem `certificateProblem()` found. A
 * CA certificate served as the server's own (what `openssl req -x509` makes
 * by default) is refused by TLS even when it is trusted, so --ca-file cannot
 * help: the certificate must be reissued.
 */
export function certificateHint(problem: string): string {
  if (/CaUsedAsEndEntity/i.test(problem)) {
    return "the server presents a CA certificate (basicConstraints CA:TRUE) as its own, which TLS refuses even when trusted: reissue the server's certificate with CA:FALSE (openssl: -addext basicConstraints=critical,CA:FALSE), signed by a CA you pass with --ca-file";
  }
  return UNTRUSTED_CERTIFICATE_HINT;
}

/**
 * The certificate problem behind a failed request, if that is what it was:
 * found in the message of the error or of one in its `cause` chain (fetch
 * wraps it, and the library's `network_error` wraps fetch's).
 */
export function certificateProblem(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current; depth++) {
    const message = current instanceof Error ? current.message : "";
    const found =
      /invalid peer certificate[^\n]*|certificate (?:verify failed|has expired|is not valid)[^\n]*|self[- ]signed certificate[^\n]*|unable to (?:get local issuer|verify the first) certificate[^\n]*/i
        .exec(message);
    if (found) return found[0];
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}
