// Transport helpers shared inside the package — core, looker/ and loopback/
// use them — but not part of the public API (src/core/mod.ts does not export
// them): the URL policy (https:, or http: on loopback), a bounded fetch,
// redaction of secrets from text.
import { OAuthError } from "./errors.ts";
import type { HttpOptions } from "./http_options.ts";

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * Just the {@linkcode HttpOptions} of a larger options object, without
 * members that are `undefined` (the options are `exactOptionalPropertyTypes`).
 */
export function httpOptionsOf(options: HttpOptions): HttpOptions {
  const { fetch, signal, timeout, maxResponseBytes } = options;
  return {
    ...(fetch === undefined ? {} : { fetch }),
    ...(signal === undefined ? {} : { signal }),
    ...(timeout === undefined ? {} : { timeout }),
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  };
}

/** Tells whether a URL's host is a loopback address (RFC 8252 §7.3, §8.3). */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" ||
    /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Whether `url` is plain `http:` that the transport policy lets through: on
 * a loopback host, or anywhere when `allowInsecureHttp`. `false` for every
 * other scheme, `https:` included.
 */
export function isPlainHttpAllowed(
  url: URL,
  allowInsecureHttp: boolean,
): boolean {
  return url.protocol === "http:" &&
    (allowInsecureHttp || isLoopbackHost(url.hostname));
}

/**
 * Parses `value` as an absolute URL of any scheme.
 *
 * @throws {OAuthError} `invalid_argument` "`what` is not an absolute URL",
 *   with `hint`.
 */
export function parseAbsoluteUrl(
  value: string | URL,
  what: string,
  hint: string,
): URL {
  try {
    return new URL(value);
  } catch {
    throw new OAuthError(
      "invalid_argument",
      `${what} is not an absolute URL`,
      { hint },
    );
  }
}

/**
 * Parses `value` as an absolute `http:`/`https:` URL and enforces the
 * transport policy: `https:` anywhere, `http:` only on loopback hosts unless
 * `allowInsecureHttp`. Credentials in the URL are refused.
 */
export function parseEndpoint(
  value: string | URL,
  what: string,
  allowInsecureHttp = false,
): URL {
  const url = parseAbsoluteUrl(
    value,
    what,
    "give the full URL, starting with https://",
  );
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new OAuthError(
      "invalid_argument",
      `${what} must be an https: URL, not ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw new OAuthError(
      "invalid_argument",
      `${what} must not contain a user name or password`,
    );
  }
  if (url.protocol === "http:" && !isPlainHttpAllowed(url, allowInsecureHttp)) {
    throw new OAuthError(
      "insecure_http",
      `${what} uses http:// on ${url.host}, which is not a loopback host`,
      {
        hint:
          "use https://; plain http is accepted only for 127.0.0.1, ::1 and localhost unless you opt in to insecure HTTP",
      },
    );
  }
  return url;
}

/**
 * A Looker API URL without trailing slashes or an `/api` or `/api/4.0` suffix
 * (as `LOOKERSDK_BASE_URL` is sometimes written).
 */
export function lookerApiBase(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/api(?:\/\d+\.\d+)?$/, "");
}

/** Removes one trailing slash and any query or fragment. */
export function baseOf(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * A fetch that gives up after `timeout` ms (headers and body) and refuses to
 * read more than `maxResponseBytes`. Its errors are `OAuthError`s.
 */
export function boundedFetch(
  options: HttpOptions = {},
): (input: string | URL, init?: RequestInit) => Promise<Response> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return async (input, init = {}) => {
    const deadline = AbortSignal.timeout(timeout);
    const signals = [deadline];
    if (options.signal) signals.push(options.signal);
    if (init.signal) signals.push(init.signal);
    const signal = signals.length === 1 ? deadline : AbortSignal.any(signals);
    const host = hostOf(input);
    let response: Response;
    try {
      response = await doFetch(input, { ...init, signal });
    } catch (cause) {
      throw transportError(cause, host, timeout, deadline);
    }
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > max) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(host, max);
    }
    // A null-body status (204 No Content, as Looker's logout answers) may
    // still carry an empty stream in browsers, which no Response can be
    // rebuilt with.
    if (response.body === null || NULL_BODY_STATUS.has(response.status)) {
      return response;
    }
    // The platform cuts a body framed by Content-Length (checked above
    // against the limit) at that length, so such a response needs no
    // counting stream, whose start-up cost shows in a short-lived process
    // (docs/architecture.md, "Keeping `token` fast"); the signal still ends
    // a slow body. Only for "basic" responses (JavaScript-
    // built ones, e.g. from a custom fetch, are "default"; CORS ones hide
    // Content-Encoding) without Transfer-Encoding (which overrides
    // Content-Length) or Content-Encoding (decoded bodies are larger).
    const { headers } = response;
    if (
      response.type === "basic" && Number.isSafeInteger(declared) &&
      declared >= 0 && !headers.has("transfer-encoding") &&
      !headers.has("content-encoding")
    ) {
      return response;
    }
    let seen = 0;
    const limited = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > max) {
            controller.error(tooLarge(host, max));
          } else {
            controller.enqueue(chunk);
          }
        },
      }),
      { signal },
    );
    return new Response(limited, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function hostOf(input: string | URL): string {
  try {
    return new URL(input).host;
  } catch {
    return String(input);
  }
}

function tooLarge(host: string, max: number): OAuthError {
  return new OAuthError(
    "response_too_large",
    `the response from ${host} is larger than ${max} bytes`,
    { hint: "check that the URL points at the right server" },
  );
}

function transportError(
  cause: unknown,
  host: string,
  timeout: number,
  deadline: AbortSignal,
): OAuthError {
  if (cause instanceof OAuthError) return cause;
  if (deadline.aborted) {
    return new OAuthError(
      "timeout",
      `${host} did not answer within ${timeout} ms`,
      { cause, hint: "check the network, or allow a longer timeout" },
    );
  }
  if (cause instanceof DOMException && cause.name === "AbortError") {
    return new OAuthError("timeout", `the request to ${host} was aborted`, {
      cause,
    });
  }
  return networkError(cause, host);
}

/**
 * The `network_error` for a request to `host` that failed before any answer,
 * saying why when the platform's error tells (refused, DNS, TLS, timeout).
 * The platform's own message is not quoted: it holds the whole URL.
 */
export function networkError(cause: unknown, host: string): OAuthError {
  const inBrowser = typeof (globalThis as { document?: unknown }).document !==
    "undefined";
  const reason = networkReason(cause);
  return new OAuthError(
    "network_error",
    `could not reach ${host}${reason ? `: ${reason}` : ""}`,
    {
      cause,
      hint: inBrowser
        ? "if the server is up, the browser may have refused the response (CORS): add this page's origin to Looker's Embedded Domain Allowlist (Admin > Embed)"
        : "check the URL and that the server is reachable from here",
    },
  );
}

const NETWORK_REASONS: readonly [RegExp, string][] = [
  [/connection refused|ECONNREFUSED/i, "connection refused"],
  [
    /dns error|failed to lookup|name or service not known|nodename nor servname|no such host|ENOTFOUND|EAI_AGAIN/i,
    "the host name does not resolve (DNS)",
  ],
  [
    /certificate|tls|ssl|handshake|corrupt message|InvalidContentType/i,
    "the TLS handshake failed (certificate or protocol)",
  ],
  [/timed out|timeout|ETIMEDOUT/i, "the connection timed out"],
  [/connection reset|ECONNRESET|broken pipe/i, "the connection was reset"],
  [
    /network is unreachable|no route to host|ENETUNREACH|EHOSTUNREACH/i,
    "the network or host is unreachable",
  ],
];

/** Why a fetch failed, from the messages along its `cause` chain. */
function networkReason(cause: unknown): string | undefined {
  const messages: string[] = [];
  let current: unknown = cause;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (current instanceof Error) messages.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  const text = messages.join(" ");
  return NETWORK_REASONS.find(([pattern]) => pattern.test(text))?.[1];
}

/**
 * Finds the error that explains `err`: an `OAuthError` raised by the bounded
 * fetch while a body was read, or a timeout, hidden in a `cause` chain.
 */
export function rootTransportError(err: unknown): OAuthError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (current instanceof OAuthError) return current;
    if (
      current instanceof DOMException &&
      (current.name === "TimeoutError" || current.name === "AbortError")
    ) {
      return new OAuthError("timeout", "the response did not arrive in time", {
        cause: current,
      });
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Reads a body as text, within the bounded fetch's limits. */
export async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    throw rootTransportError(err) ??
      new OAuthError("invalid_response", "the response body could not be read");
  }
}

/** Replaces every occurrence of each secret in `text` and trims it. */
export function redact(
  text: string,
  secrets: readonly (string | undefined)[],
): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) {
      out = out.split(secret).join("[redacted]");
    }
  }
  // deno-lint-ignore no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

/**
 * Whether `value` is a token as RFC 6749 Appendix A defines one: one or more
 * printable ASCII characters (VSCHAR, %x20-7E).
 */
export function isTokenText(value: unknown): value is string {
  return typeof value === "string" && /^[\x20-\x7e]+$/.test(value);
}

/**
 * The `Authorization` value for an access token. A token that is not one
 * (control characters: a corrupted or hostile store) is refused here, with
 * a message that never quotes it, as `Headers` would in its TypeError.
 */
export function bearerHeader(token: string): string {
  if (!isTokenText(token)) {
    throw new OAuthError(
      "login_required",
      "the stored access token is not a valid token",
      { hint: "sign in again" },
    );
  }
  return `Bearer ${token}`;
}

/**
 * Refuses a request that would carry an access token to another origin than
 * `owner`, the origin it belongs to.
 *
 * @throws {OAuthError} `invalid_argument` for another origin, or for a
 *   `target` that is not an absolute URL.
 */
export function assertTokenOrigin(target: string | URL, owner: string): void {
  let origin: string | undefined;
  try {
    origin = (target instanceof URL ? target : new URL(target)).origin;
  } catch {
    origin = undefined;
  }
  if (origin !== owner) {
    throw new OAuthError(
      "invalid_argument",
      `refusing to send the access token to ${
        origin ?? "an invalid URL"
      }; it belongs to ${owner}`,
    );
  }
}

/** Throws unless `clientId` is a non-empty string. */
export function assertClientId(clientId: unknown): asserts clientId is string {
  if (typeof clientId !== "string" || clientId.trim() === "") {
    throw new OAuthError("invalid_argument", "a client id is required", {
      hint:
        "use the client_guid the app was registered with (Looker: register_oauth_client_app)",
    });
  }
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
