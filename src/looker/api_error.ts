/**
 * Errors from Looker's API (`{message, documentation_url}` bodies).
 *
 * @module
 */

/**
 * Why a Looker API call failed, from the HTTP status.
 *
 * - `unauthorized` (401), `forbidden` (403), `not_found` (404),
 *   `conflict` (409), `validation_failed` (422), `server_error` (5xx),
 *   `http_error` (anything else).
 */
export type LookerApiErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "validation_failed"
  | "server_error"
  | "http_error";

/** A failed Looker API call. Match on `code` or `status`. */
export class LookerApiError extends Error {
  /** The stable reason. */
  readonly code: LookerApiErrorCode;
  /** The HTTP status. */
  readonly status: number;
  /** Looker's `message`, if it sent one. */
  readonly lookerMessage: string | undefined;
  /** Looker's `documentation_url`, if it sent one. */
  readonly documentationUrl: string | undefined;
  /** What a person can do about it. */
  readonly hint: string | undefined;

  /**
   * Creates an error.
   *
   * @param status The HTTP status.
   * @param message A sentence for people.
   * @param options Looker's message and documentation URL, and a hint.
   */
  constructor(
    status: number,
    message: string,
    options: {
      lookerMessage?: string;
      documentationUrl?: string;
      hint?: string;
    } = {},
  ) {
    super(message);
    this.name = "LookerApiError";
    this.status = status;
    this.code = codeFor(status);
    this.lookerMessage = options.lookerMessage;
    this.documentationUrl = options.documentationUrl;
    this.hint = options.hint;
  }
}

function codeFor(status: number): LookerApiErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 422) return "validation_failed";
  if (status >= 500) return "server_error";
  return "http_error";
}

/**
 * Builds the error for a non-2xx Looker API response, reading its body.
 *
 * @param response The response.
 * @param what What was attempted, e.g. `GET /api/4.0/user`.
 * @returns The error.
 */
export async function lookerApiError(
  response: Response,
  what: string,
): Promise<LookerApiError> {
  let message: string | undefined;
  let documentationUrl: string | undefined;
  try {
    const body = await response.json();
    if (typeof body?.message === "string") message = body.message;
    if (typeof body?.documentation_url === "string") {
      documentationUrl = body.documentation_url;
    }
  } catch {
    // not JSON
  }
  const hint = response.status === 401
    ? "the token was refused; sign in again: looker-oauth login"
    : response.status === 403
    ? "your Looker user lacks the permission for this call"
    : response.status === 404
    ? "check the path (e.g. /user means /api/4.0/user) and the API URL"
    : undefined;
  return new LookerApiError(
    response.status,
    `${what} failed: ${response.status}${message ? ` ${message}` : ""}`,
    {
      ...(message === undefined ? {} : { lookerMessage: message }),
      ...(documentationUrl === undefined ? {} : { documentationUrl }),
      ...(hint === undefined ? {} : { hint }),
    },
  );
}
