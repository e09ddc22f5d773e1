/**
 * The one error class the library throws, with stable codes.
 *
 * @module
 */

/**
 * Every {@linkcode OAuthErrorCode}, for exhaustive checks and for tools that
 * list them.
 */
export const OAUTH_ERROR_CODES = [
  "invalid_argument",
  "insecure_http",
  "state_mismatch",
  "iss_mismatch",
  "nonce_mismatch",
  "invalid_callback",
  "access_denied",
  "authorization_error",
  "redirect_uri_mismatch",
  "invalid_client",
  "basic_auth_rejected",
  "wrong_host",
  "invalid_grant",
  "token_endpoint_error",
  "server_error",
  "invalid_response",
  "response_too_large",
  "timeout",
  "network_error",
  "discovery_failed",
  "login_required",
  "unsupported",
  "cors_refused",
  "insecure_context",
  "no_pending_sign_in",
] as const;

/**
 * A stable, machine-readable reason for an {@linkcode OAuthError}.
 *
 * - `invalid_argument`: a value passed to a function is malformed.
 * - `insecure_http`: an `http:` URL on a host that is not loopback.
 * - `state_mismatch`: the callback's `state` is missing, repeated or wrong
 *   (a forged or stale callback).
 * - `iss_mismatch`: the callback's `iss` is wrong, or missing where the server
 *   promises it (RFC 9207).
 * - `nonce_mismatch`: the ID token's `nonce` is not the one sent with this
 *   sign-in (a code obtained for another sign-in), or is missing.
 * - `invalid_callback`: the callback has no `code`, or repeats a parameter.
 * - `access_denied`: the person declined.
 * - `authorization_error`: the server sent another `error=` to the callback.
 * - `redirect_uri_mismatch`: the redirect URI is not the registered one.
 * - `invalid_client`: the client id is unknown or the app is disabled.
 * - `basic_auth_rejected`: Looker answered "Failed Basic Authentication".
 * - `wrong_host`: the token endpoint answered 404: usually the UI host was
 *   used where the API host was needed.
 * - `invalid_grant`: the code or refresh token was refused.
 * - `token_endpoint_error`: another OAuth error from the token endpoint.
 * - `server_error`: a 5xx, or another unexpected status.
 * - `invalid_response`: the response is not what the protocol requires.
 * - `response_too_large`: the response body exceeded the size limit.
 * - `timeout`: the request took longer than allowed.
 * - `network_error`: the server could not be reached (in browsers, also a
 *   CORS refusal).
 * - `discovery_failed`: the server's metadata could not be fetched or used.
 * - `login_required`: no usable tokens: the person must sign in again.
 * - `unsupported`: the server does not offer the operation.
 * - `cors_refused`: the browser withheld a response from a server that is
 *   up: the page's origin is not allowed by the server's CORS policy
 *   (Looker: the Embedded Domain Allowlist).
 * - `insecure_context`: the page is not a secure context, so Web Crypto
 *   (needed for PKCE) is missing.
 * - `no_pending_sign_in`: a callback arrived, but no sign-in started from
 *   this browser tab is waiting for it (storage cleared, another tab, a
 *   bookmarked or replayed callback URL).
 */
export type OAuthErrorCode = typeof OAUTH_ERROR_CODES[number];

/** Options for the {@linkcode OAuthError} constructor. */
export interface OAuthErrorOptions {
  /** What a person can do about it, in one sentence. */
  hint?: string;
  /** The underlying error, with secrets removed. */
  cause?: unknown;
  /** The HTTP status of the response that caused the error, if any. */
  status?: number;
  /** The `error` value the server sent, if any. */
  error?: string;
  /** The `error_description` (or Looker `message`) the server sent, if any. */
  errorDescription?: string;
}

/**
 * The error every function of this library throws on purpose.
 *
 * Match on {@linkcode OAuthError.code}, never on the message. Messages and
 * hints never contain an authorization code, a PKCE verifier or a token.
 *
 * @example Telling a declined consent apart
 * ```ts
 * import assert from "node:assert/strict";
 * import { OAuthError } from "@looker-oauth/pkce/core";
 *
 * let declined = false;
 * try {
 *   throw new OAuthError("access_denied", "the person declined");
 * } catch (err) {
 *   // show "you declined" rather than a failure
 *   declined = err instanceof OAuthError && err.code === "access_denied";
 * }
 * assert.ok(declined);
 * ```
 */
export class OAuthError extends Error {
  /** The stable reason. */
  readonly code: OAuthErrorCode;
  /** What a person can do about it, if there is a known fix. */
  readonly hint: string | undefined;
  /** The HTTP status of the response behind the error, if any. */
  readonly status: number | undefined;
  /** The server's `error` value, if any. */
  readonly error: string | undefined;
  /** The server's `error_description` (or Looker `message`), if any. */
  readonly errorDescription: string | undefined;

  /**
   * Creates an error.
   *
   * @param code The stable reason.
   * @param message A sentence for people; never put a secret in it.
   * @param options Hint, cause, and what the server said.
   */
  constructor(
    code: OAuthErrorCode,
    message: string,
    options: OAuthErrorOptions = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "OAuthError";
    this.code = code;
    this.hint = options.hint;
    this.status = options.status;
    this.error = options.error;
    this.errorDescription = options.errorDescription;
  }
}

/**
 * Tells whether `err` is an {@linkcode OAuthError}, optionally with one of
 * the given codes.
 *
 * @param err Anything caught.
 * @param codes Codes to accept; any code when empty.
 * @returns `true` when `err` is an `OAuthError` with an accepted code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isOAuthError, OAuthError } from "@looker-oauth/pkce/core";
 *
 * const err: unknown = new OAuthError("login_required", "sign in again");
 * assert.ok(isOAuthError(err, "login_required", "invalid_grant"));
 * assert.ok(!isOAuthError(err, "access_denied"));
 * ```
 */
export function isOAuthError(
  err: unknown,
  ...codes: OAuthErrorCode[]
): err is OAuthError {
  return err instanceof OAuthError &&
    (codes.length === 0 || codes.includes(err.code));
}
