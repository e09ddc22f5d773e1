// Private: turning a failed token-endpoint (or Looker API) response into an
// OAuthError with a hint, without ever quoting a secret.
import * as oauth from "oauth4webapi";
import { OAuthError, type OAuthErrorCode } from "./errors.ts";
import { readText, redact, rootTransportError } from "./transport.ts";
import type { AuthServer } from "./server.ts";

/** What was being done, for the hint. */
export type TokenOperation = "exchange" | "refresh" | "revoke" | "logout";

const INVALID_GRANT_HINT: Record<TokenOperation, string> = {
  exchange:
    "the code expired, was already used, or the PKCE verifier does not match; sign in again",
  refresh: "the refresh token expired or was revoked; sign in again",
  revoke: "the token is no longer valid",
  logout: "the token is no longer valid",
};

/**
 * Builds the error for a non-2xx answer. Reads the body (bounded) and never
 * copies any of `secrets` into the message.
 */
export async function errorFromResponse(
  server: AuthServer,
  response: Response,
  operation: TokenOperation,
  secrets: readonly (string | undefined)[],
): Promise<OAuthError> {
  const status = response.status;
  const text = await readText(response).catch(() => "");
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed;
  } catch {
    // not JSON: judged by status below
  }
  // Tokens the answer itself holds are as secret as those sent.
  secrets = [
    ...secrets,
    ...["access_token", "refresh_token", "id_token"].map((key) =>
      typeof body[key] === "string" ? body[key] : undefined
    ),
  ];
  const error = typeof body.error === "string"
    ? redact(body.error, secrets)
    : undefined;
  const rawDescription = typeof body.error_description === "string"
    ? body.error_description
    : typeof body.message === "string"
    ? body.message
    : undefined;
  const description = rawDescription === undefined
    ? undefined
    : redact(rawDescription, secrets);
  const where = endpointName(operation);
  const said = [error, description].filter(Boolean).join(": ");
  const make = (code: OAuthErrorCode, message: string, hint?: string) =>
    new OAuthError(code, message, {
      status,
      ...(error === undefined ? {} : { error }),
      ...(description === undefined ? {} : { errorDescription: description }),
      ...(hint === undefined ? {} : { hint }),
    });

  // Looker's own words; another server saying so falls to invalid_client.
  if (
    server.looker && /basic auth/i.test(`${error ?? ""} ${description ?? ""}`)
  ) {
    return make(
      "basic_auth_rejected",
      `${where} answered ${status}: ${description ?? error}`,
      "Looker's token endpoint takes a public client: client_id in the form body and no Authorization header (no client secret)",
    );
  }
  if (
    error === "redirect_uri_mismatch" ||
    ((error === "invalid_grant" || error === "invalid_request") &&
      description !== undefined && /redirect/i.test(description))
  ) {
    return make(
      "redirect_uri_mismatch",
      `${where} refused the redirect URI (${status} ${said})`,
      "the redirect URI must equal the one registered for the client app, character for character (scheme, host, port and path)",
    );
  }
  // Looker's API answers a refused refresh as its other API errors:
  // `{message, documentation_url}` with 400, 401 or 403, no `error` member.
  const lookerRefusal = operation === "refresh" && error === undefined &&
    typeof body.message === "string" && [400, 401, 403].includes(status);
  if (error === "invalid_grant" || lookerRefusal) {
    return make(
      "invalid_grant",
      `${where} refused the ${
        operation === "exchange" ? "authorization code" : "refresh token"
      } (${status} ${said})`,
      INVALID_GRANT_HINT[operation],
    );
  }
  if (error === "invalid_client" || error === "unauthorized_client") {
    return make(
      "invalid_client",
      `${where} does not know this client (${status} ${said})`,
      server.looker
        ? "the client id must be the client_guid registered with register_oauth_client_app on this Looker instance, and the app must be enabled"
        : "check the client id, and that the client is registered as a public client (no secret) on this server",
    );
  }
  if (status === 404 && (operation === "exchange" || operation === "refresh")) {
    return make(
      "wrong_host",
      `${where} ${server.metadata.token_endpoint} answered 404 Not Found`,
      server.looker
        ? "the token endpoint /api/token lives on Looker's API host (often port 19999, or 443 on newer instances), not the UI host: set the API URL"
        : "check the token endpoint URL",
    );
  }
  if (error !== undefined) {
    return make(
      "token_endpoint_error",
      `${where} answered ${status} ${said}`,
      "see the server's error description",
    );
  }
  if (status >= 500) {
    return make(
      "server_error",
      `${where} failed with ${status}${description ? `: ${description}` : ""}`,
      "the server failed; try again later",
    );
  }
  if (status === 401 && operation === "revoke") {
    // RFC 7009 §2.2.1: a 401 from the revocation endpoint is client
    // authentication failing, even with an empty body.
    return make(
      "invalid_client",
      `${where} refused this client (401${
        description ? ` ${description}` : ""
      })`,
      "the server may not let a public client (no secret) revoke tokens",
    );
  }
  if (status === 401 && operation === "logout") {
    return make(
      "invalid_grant",
      `${where} refused the access token (401${
        description ? ` ${description}` : ""
      })`,
      INVALID_GRANT_HINT[operation],
    );
  }
  return make(
    "server_error",
    `${where} answered an unexpected ${status}${
      description ? `: ${description}` : ""
    }`,
    "check the server URL",
  );
}

/** Maps an error thrown while a 2xx response was processed. */
export function errorFromProcessing(
  err: unknown,
  operation: TokenOperation,
): OAuthError {
  const transport = rootTransportError(err);
  if (transport) return transport;
  if (err instanceof OAuthError) return err;
  const where = endpointName(operation);
  if (
    err instanceof oauth.OperationProcessingError &&
    err.code === oauth.HTTP_REQUEST_FORBIDDEN
  ) {
    return new OAuthError(
      "insecure_http",
      `${where} is an http:// URL on a host that is not loopback`,
      { hint: "use https://, or opt in to insecure HTTP explicitly" },
    );
  }
  if (
    err instanceof oauth.OperationProcessingError &&
    err.code === oauth.JWT_CLAIM_COMPARISON &&
    (err.cause as { claim?: unknown } | undefined)?.claim === "nonce"
  ) {
    return new OAuthError(
      "nonce_mismatch",
      "the ID token's nonce is not the one sent with this sign-in",
      {
        cause: { name: err.name, code: err.code, message: err.message },
        hint:
          "the code was not issued for this sign-in (replayed or injected); sign in again",
      },
    );
  }
  if (err instanceof oauth.OperationProcessingError) {
    // The message names the faulty field; the cause may hold the body (and
    // tokens), so only the message and code are kept.
    const reason = err.code === oauth.RESPONSE_IS_NOT_JSON ||
        err.code === oauth.PARSE_ERROR
      ? "its answer is not JSON"
      : err.message.replace(/"response" body /, "");
    return new OAuthError(
      "invalid_response",
      `${where} gave an invalid answer: ${reason}`,
      {
        cause: { name: err.name, code: err.code, message: err.message },
        hint: "check that the URL points at the OAuth server's token endpoint",
      },
    );
  }
  return new OAuthError(
    "invalid_response",
    `${where} gave an invalid answer: ${
      err instanceof Error ? err.message : String(err)
    }`,
  );
}

function endpointName(operation: TokenOperation): string {
  switch (operation) {
    case "revoke":
      return "the revocation endpoint";
    case "logout":
      return "Looker's logout endpoint";
    default:
      return "the token endpoint";
  }
}

/**
 * Refuses a 2xx token response that is not JSON by its content type, before
 * oauth4webapi reads it (it would accept any type whose body parses).
 */
export async function assertJsonResponse(
  response: Response,
  operation: TokenOperation,
): Promise<void> {
  const type = response.headers.get("content-type")?.split(";")[0]?.trim()
    .toLowerCase();
  if (type === "application/json" || type?.endsWith("+json")) return;
  await response.body?.cancel().catch(() => {});
  throw new OAuthError(
    "invalid_response",
    `${endpointName(operation)} answered ${
      type ? `with ${type}` : "without a content type"
    }, not application/json`,
    {
      status: response.status,
      hint:
        "check that the URL points at the OAuth server's token endpoint, not a web page or a proxy",
    },
  );
}
