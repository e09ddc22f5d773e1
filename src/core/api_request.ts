// Shared inside the package, not part of the public API (src/core/mod.ts
// does not export it): how TokenSession sends an API request with its
// access token — the base URL, where the token may go, the Authorization
// header — without the refresh machinery or oauth4webapi, so that the CLI's
// `api` sends a request with a valid token through these same functions.
import { OAuthError } from "./errors.ts";
import type { AuthServer } from "./server.ts";
import {
  assertTokenOrigin,
  bearerHeader,
  isPlainHttpAllowed,
  networkError,
} from "./transport.ts";

/**
 * The base URL of a session's API calls: `apiUrl`, else Looker's API URL;
 * `undefined` for other servers without one.
 *
 * @throws {OAuthError} `invalid_argument` when it is not an absolute URL.
 */
export function sessionApiUrl(
  apiUrl: string | undefined,
  server: AuthServer,
): URL | undefined {
  const api = apiUrl ?? server.looker?.apiUrl;
  try {
    return api === undefined ? undefined : new URL(api);
  } catch {
    throw new OAuthError("invalid_argument", "apiUrl is not an absolute URL");
  }
}

/**
 * Where a request with the access token goes: `input` resolved against
 * `apiUrl`, on `apiUrl`'s origin only, and `https:` (plain `http:` only as
 * {@linkcode isPlainHttpAllowed} lets through).
 *
 * @throws {OAuthError} `invalid_argument` for an unreadable URL or another
 *   origin; `insecure_http` for any other scheme or plain http off loopback.
 */
export function tokenRequestUrl(
  input: string | URL,
  apiUrl: URL | undefined,
  allowInsecureHttp: boolean,
): URL {
  let url: URL;
  try {
    url = new URL(input, apiUrl);
  } catch {
    throw new OAuthError(
      "invalid_argument",
      apiUrl
        ? `${String(input)} is not a valid URL or path`
        : "a relative path needs an apiUrl",
    );
  }
  if (apiUrl) assertTokenOrigin(url, apiUrl.origin);
  if (
    url.protocol !== "https:" &&
    !isPlainHttpAllowed(url, allowInsecureHttp)
  ) {
    throw new OAuthError(
      "insecure_http",
      `refusing to send the access token over ${url.protocol} to ${url.host}`,
      {
        hint:
          "use https://; plain http is accepted only for 127.0.0.1, ::1 and localhost unless the server was created with allowInsecureHttp",
      },
    );
  }
  return url;
}

/**
 * Sends `init` to `url` with `Authorization: Bearer <token>` (checked by
 * {@linkcode bearerHeader}) through `send`.
 *
 * @throws {OAuthError} `network_error` naming the host when no answer came;
 *   aborts stay the caller's.
 */
export async function sendWithToken(
  url: URL,
  init: RequestInit,
  token: string,
  send: typeof fetch,
  defaultSignal?: AbortSignal,
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", bearerHeader(token));
  const signal = init.signal ?? defaultSignal;
  try {
    return await send(url, {
      ...init,
      headers,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    // Aborts stay the caller's; a failed connection says where and why.
    if (err instanceof TypeError) throw networkError(err, url.host);
    throw err;
  }
}

/** The error a session without tokens throws: `login_required`. */
export function signedOut(): OAuthError {
  return new OAuthError("login_required", "not signed in", {
    hint: "sign in first",
  });
}
