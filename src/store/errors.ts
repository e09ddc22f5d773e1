/**
 * Errors of the token stores.
 *
 * @module
 */

/**
 * Why a token store failed.
 *
 * - `invalid_profile`: the profile name is not a plain file name.
 * - `symlink_refused`: the token file is a symbolic link.
 * - `write_failed`: the tokens could not be saved (the previous file is
 *   intact).
 * - `read_failed`: the token file exists but could not be read.
 * - `unsafe_permissions`: the state folder, `tokens/` or a file in them
 *   belongs to another user, or is open to others and could not be made
 *   private (see {@linkcode TokenStoreError.hint} for the command to run).
 * - `lock_timeout`: another process held the profile's lock for longer than
 *   the store waits.
 * - `no_home`: there is no folder to keep the state in (no
 *   `LOOKER_OAUTH_HOME`, `XDG_CONFIG_HOME`, `APPDATA` or home folder).
 */
export type TokenStoreErrorCode =
  | "invalid_profile"
  | "symlink_refused"
  | "write_failed"
  | "read_failed"
  | "unsafe_permissions"
  | "lock_timeout"
  | "no_home";

/** A token store failure. Match on {@linkcode TokenStoreError.code}. */
export class TokenStoreError extends Error {
  /** The stable reason. */
  readonly code: TokenStoreErrorCode;
  /** The file concerned. */
  readonly path: string | undefined;
  /** What a person can do about it. */
  readonly hint: string | undefined;

  /**
   * Creates an error.
   *
   * @param code The stable reason.
   * @param message A sentence for people.
   * @param options The file, a hint and the cause.
   */
  constructor(
    code: TokenStoreErrorCode,
    message: string,
    options: { path?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "TokenStoreError";
    this.code = code;
    this.path = options.path;
    this.hint = options.hint;
  }
}
