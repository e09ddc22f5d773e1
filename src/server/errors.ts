/**
 * Errors of the server sign-in helpers and their session stores.
 *
 * @module
 */

/**
 * Every {@linkcode SignInErrorCode}, for exhaustive checks.
 */
export const SIGN_IN_ERROR_CODES = [
  "weak_secret",
  "invalid_config",
  "missing_cookie",
  "invalid_seal",
  "expired_seal",
  "replayed_callback",
  "invalid_return_to",
  "lease_timeout",
  "store_unavailable",
] as const;

/**
 * A stable, machine-readable reason for a {@linkcode SignInError}.
 *
 * - `weak_secret`: the cookie secret is missing or shorter than 32 bytes.
 * - `invalid_config`: another setting of the helpers or a store is wrong.
 * - `missing_cookie`: a callback arrived without the sign-in cookie (it
 *   expired, was blocked, or the callback was not started in this browser).
 * - `invalid_seal`: a sealed value is malformed, was altered, or was sealed
 *   under a secret that is no longer configured.
 * - `expired_seal`: a sealed value is older than its lifetime.
 * - `replayed_callback`: the sign-in was already completed once.
 * - `invalid_return_to`: the page to return to is not a path on the app's
 *   own origin.
 * - `lease_timeout`: another instance held the refresh lease for longer than
 *   the store waits.
 * - `store_unavailable`: the session store could not be opened, or stayed
 *   busy for longer than it waits.
 */
export type SignInErrorCode = typeof SIGN_IN_ERROR_CODES[number];

/**
 * A failure of the server sign-in helpers or a session store. Protocol
 * failures (a refused code, a forged `state`) stay the core's `OAuthError`s.
 *
 * Match on {@linkcode SignInError.code}, never on the message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SignInError } from "@looker-oauth/pkce/server";
 *
 * const err: unknown = new SignInError("weak_secret", "too short");
 * assert.ok(err instanceof SignInError && err.code === "weak_secret");
 * assert.ok(err.hint ?? err.message); // what to tell the operator
 * ```
 */
export class SignInError extends Error {
  /** The stable reason. */
  readonly code: SignInErrorCode;
  /** What a person can do about it, if there is a known fix. */
  readonly hint: string | undefined;

  /**
   * Creates an error.
   *
   * @param code The stable reason.
   * @param message A sentence for people; never put a secret in it.
   * @param options A hint and the cause.
   */
  constructor(
    code: SignInErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "SignInError";
    this.code = code;
    this.hint = options.hint;
  }
}
