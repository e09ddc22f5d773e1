// Private: one place that turns any error into a message, a hint and an
// exit code. Messages never include secrets (the library guarantees it for
// its own errors); unknown errors print their message only, no stack.
import { UsageError } from "./_args.ts";
import type { Io } from "./_io.ts";
import { shownLines } from "./_text.ts";

/** Exit codes (DESIGN.md). */
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
