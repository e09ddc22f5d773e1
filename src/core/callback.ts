/**
 * The second leg: validating the redirect back to the app.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { OAuthError } from "./errors.ts";
import { redact, timingSafeEqual } from "./transport.ts";
import { toAs } from "./_oauth.ts";
import type { AuthServer } from "./server.ts";

/** What the callback is checked against. */
export interface CallbackExpectations {
  /** The `state` sent with the authorization request. */
  state: string;
}

/**
 * Validates the URL the server redirected the browser to and returns the
 * authorization code.
 *
 * The checks run in this order, so that nothing an attacker sends is acted on
 * before its `state` is known to be ours:
 *
 * 1. exactly one `state`, equal to the expected one (error callbacks too);
 * 2. `iss`, when present or when the server promises it (RFC 9207);
 * 3. `error` (`access_denied` apart from other errors);
 * 4. exactly one non-empty `code`.
 *
 * Looker's `?&code=...&state=...` shape is accepted.
 *
 * @param server The server the authorization request went to.
 * @param callback The full callback URL, or its query.
 * @param expected The `state` that was sent.
 * @returns The authorization code.
 * @throws {OAuthError} `state_mismatch` (forged or stale: ignore it and keep
 *   waiting), `iss_mismatch`, `access_denied`, `authorization_error`, or
 *   `invalid_callback`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9207.html#section-2.4
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookerServer, parseCallback } from "@looker-oauth/pkce/core";
 *
 * const server = lookerServer({ lookerUrl: "https://example.looker.com" });
 * const code = parseCallback(
 *   server,
 *   "http://localhost:8080/callback?&code=abc123&state=xyz",
 *   { state: "xyz" },
 * );
 * assert.equal(code, "abc123");
 * ```
 */
export function parseCallback(
  server: AuthServer,
  callback: string | URL | URLSearchParams,
  expected: CallbackExpectations,
): string {
  if (typeof expected?.state !== "string" || expected.state === "") {
    throw new OAuthError(
      "invalid_argument",
      "the expected state is required to validate a callback",
    );
  }
  const params = toParams(callback);

  const states = params.getAll("state");
  if (states.length !== 1 || !timingSafeEqual(states[0]!, expected.state)) {
    throw new OAuthError(
      "state_mismatch",
      states.length === 0
        ? "the callback has no state: it was not sent in answer to this sign-in"
        : states.length > 1
        ? "the callback repeats state"
        : "the callback's state does not match this sign-in",
      {
        hint:
          "ignore this request; only the browser that was sent to sign in can finish it",
      },
    );
  }

  // Before oauth4webapi, which lets an empty `iss=` through.
  const issProblem = issError(params, server);
  if (issProblem) throw issProblem;

  let validated: URLSearchParams;
  try {
    validated = oauth.validateAuthResponse(
      toAs(server),
      { client_id: "-" }, // validateAuthResponse only checks that one is given
      params,
      expected.state,
    );
  } catch (err) {
    throw fromValidationError(err, params, server);
  }
  // oauth4webapi lets an empty `error=` through; it is still an error answer.
  if (validated.has("error")) {
    throw new OAuthError(
      "authorization_error",
      "the server refused the sign-in without naming the error",
      {
        error: "",
        hint: "the server refused the sign-in; see its error description",
      },
    );
  }

  const codes = validated.getAll("code");
  if (codes.length !== 1 || codes[0] === "") {
    throw new OAuthError(
      "invalid_callback",
      codes.length > 1
        ? "the callback repeats code"
        : "the callback has no authorization code",
    );
  }
  return codes[0]!;
}

function toParams(callback: string | URL | URLSearchParams): URLSearchParams {
  if (callback instanceof URLSearchParams) return new URLSearchParams(callback);
  if (callback instanceof URL) return new URLSearchParams(callback.search);
  if (typeof callback !== "string") {
    throw new OAuthError(
      "invalid_argument",
      "the callback must be a URL, a string or URLSearchParams",
    );
  }
  const text = callback.trim();
  try {
    return new URLSearchParams(new URL(text).search);
  } catch {
    const query = text.includes("?") ? text.slice(text.indexOf("?")) : text;
    return new URLSearchParams(query.split("#")[0]);
  }
}

function fromValidationError(
  err: unknown,
  params: URLSearchParams,
  server: AuthServer,
): OAuthError {
  if (err instanceof oauth.AuthorizationResponseError) {
    const codes = params.getAll("code");
    const error = redact(err.error, codes);
    const description = err.error_description === undefined
      ? undefined
      : redact(err.error_description, codes);
    const options = {
      error,
      ...(description === undefined ? {} : { errorDescription: description }),
    };
    if (err.error === "access_denied") {
      return new OAuthError(
        "access_denied",
        "the sign-in was declined",
        {
          ...options,
          hint: "sign in again and accept the app's request when asked",
        },
      );
    }
    const hint = authorizationHint(server, err.error, err.error_description);
    return new OAuthError(
      "authorization_error",
      `the server refused the sign-in: ${error}${
        description ? ` (${description})` : ""
      }`,
      { ...options, hint },
    );
  }
  // oauth4webapi rejected the parameters; say why from the parameters
  // themselves rather than from its message text.
  return issError(params, server) ?? new OAuthError(
    "invalid_callback",
    `the callback is not a valid authorization response: ${
      err instanceof Error ? err.message : String(err)
    }`,
  );
}

/** The `iss` problem of a callback (RFC 9207 §2.4), if any. */
function issError(
  params: URLSearchParams,
  server: AuthServer,
): OAuthError | undefined {
  const issuers = params.getAll("iss");
  if (issuers.length > 1) {
    return new OAuthError("invalid_callback", "the callback repeats iss");
  }
  const iss = issuers[0];
  const promised =
    server.metadata.authorization_response_iss_parameter_supported === true;
  if (
    (iss === undefined && promised) ||
    (iss !== undefined && iss !== server.metadata.issuer)
  ) {
    return new OAuthError(
      "iss_mismatch",
      iss === undefined
        ? "the callback has no iss although the server promises one (RFC 9207)"
        : `the callback's iss is not ${server.metadata.issuer}`,
      {
        hint:
          "the response may come from another server (mix-up attack); sign in again",
      },
    );
  }
  return undefined;
}

/**
 * What to do about an `error=` callback. The hint follows the server's own
 * description where it names a cause, and names Looker's settings only for
 * Looker: a wrong hint sends the person after the wrong cause.
 */
function authorizationHint(
  server: AuthServer,
  error: string,
  description: string | undefined,
): string {
  const said = description ?? "";
  const looker = server.looker !== undefined;
  if (/redirect/i.test(said)) {
    return looker
      ? "check the redirect URI: it must equal the one registered for the OAuth client app, character for character (scheme, host, port and path)"
      : "check the redirect URI: it must be one registered for the client on the server (some servers match the port too; then register a fixed port and pass that exact URI)";
  }
  if (/\bnonce\b/i.test(said)) {
    return "the server wants an OpenID Connect nonce, which is sent whenever the scope includes openid: add openid to the scope";
  }
  if (/code_challenge|pkce/i.test(said)) {
    return "the server refused the PKCE parameters; it must accept S256 PKCE for a public client";
  }
  switch (error) {
    case "invalid_scope":
      return looker
        ? "check the scope: Looker uses cors_api"
        : "check the scope: ask for scopes the server offers to this client";
    case "unauthorized_client":
      return looker
        ? "check the client id: it must be the client_guid registered with register_oauth_client_app, and the app must be enabled"
        : "check the client on the server: it must be allowed the authorization code grant as a public client";
    case "unsupported_response_type":
      return "the server does not offer the authorization code flow to this client";
    case "server_error":
      return "the server failed; try again later";
    case "temporarily_unavailable":
      return "the server is busy; try again later";
    case "login_required":
    case "interaction_required":
      return "sign in to the server in the browser, then try again";
    case "consent_required":
      return "accept the app's request when asked";
    default:
      return said
        ? "the server refused the sign-in request; its description says why"
        : "the server refused the sign-in request without saying why; check the client's settings on the server";
  }
}
