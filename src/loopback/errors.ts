/**
 * Errors of the browser sign-in on this machine.
 *
 * @module
 */

/**
 * Why a browser sign-in on this machine failed.
 *
 * - `port_in_use`: the redirect URI's port is taken.
 * - `not_loopback`: the redirect URI is not on 127.0.0.1, ::1 or localhost.
 * - `timeout`: no valid callback arrived in time.
 * - `cancelled`: the sign-in was aborted (Ctrl-C).
 * - `unsafe_url`: a URL was refused before any browser was started.
 */
export type LoginErrorCode =
  | "port_in_use"
  | "not_loopback"
  | "timeout"
  | "cancelled"
  | "unsafe_url";

/** A failure of the local half of a browser sign-in. Match on `code`. */
export class LoginError extends Error {
  /** The stable reason. */
  readonly code: LoginErrorCode;
  /** What a person can do about it. */
  readonly hint: string | undefined;
  /** For `timeout`: the redirect URI that was waited on. */
  readonly redirectUri: string | undefined;

  /**
   * Creates an error.
   *
   * @param code The stable reason.
   * @param message A sentence for people.
   * @param options A hint, the cause, and the redirect URI waited on.
   */
  constructor(
    code: LoginErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown; redirectUri?: string } = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "LoginError";
    this.code = code;
    this.hint = options.hint;
    this.redirectUri = options.redirectUri;
  }
}
