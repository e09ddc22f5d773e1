/**
 * A polite client for a Looker instance: it names itself, waits when asked
 * to, and gives up when told to.
 *
 * @module
 */
import { OAuthError } from "../core/errors.ts";

/** Options for {@linkcode politeFetch}. */
export interface PoliteFetchOptions {
  /** The `fetch` underneath; the global one when omitted. */
  fetch?: typeof fetch;
  /**
   * Sent as `x-looker-appid` on every request (Looker's usage logs show
   * which tool called), e.g. `looker-oauth/0.1.0`. None when omitted.
   */
  appId?: string;
  /**
   * Milliseconds each request may take, body included; none when omitted.
   * A request past it fails with `timeout`.
   */
  timeout?: number;
  /**
   * The longest `Retry-After` waited for, in milliseconds. Default 30 000:
   * a longer wait is not made, and the 429 or 503 is returned as it is.
   */
  maxRetryAfter?: number;
  /** Waits `ms`; a timer by default. For tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The clock, in epoch ms, for HTTP-date `Retry-After`s. */
  now?: () => number;
  /** Called before a retry, with the wait in milliseconds. */
  onRetry?: (wait: number, response: Response) => void;
}

/** RFC 9110 §9.2.2: the methods that may be sent twice. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/**
 * Wraps a `fetch` for talking to Looker: adds `x-looker-appid`, bounds each
 * request by `timeout`, and after a `429` or `503` that carries
 * `Retry-After` waits that long (at most `maxRetryAfter`) and retries once —
 * for idempotent methods only (never a POST such as the token request), and
 * not for bodies that are streams.
 *
 * @param options The `fetch` underneath, the app id, the bounds.
 * @returns The wrapped `fetch`.
 * @throws {OAuthError} From the returned `fetch`: `timeout` when a request
 *   takes longer than `timeout`.
 *
 * @example
 * ```ts ignore
 * import {
 *   type AuthServer,
 *   politeFetch,
 *   TokenSession,
 *   type TokenStore,
 * } from "@looker-oauth/pkce";
 *
 * declare const server: AuthServer;
 * declare const clientId: string;
 * declare const store: TokenStore;
 * const fetch = politeFetch({ appId: "my-tool/1.2.0", timeout: 120_000 });
 * const session = new TokenSession({ server, clientId, store, fetch });
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3 | RFC 9110 §10.2.3, Retry-After}
 */
export function politeFetch(options: PoliteFetchOptions = {}): typeof fetch {
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const maxWait = options.maxRetryAfter ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const once = async (
    input: string | URL | Request,
    init: RequestInit | undefined,
  ): Promise<Response> => {
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    if (options.appId && !headers.has("x-looker-appid")) {
      headers.set("x-looker-appid", options.appId);
    }
    const deadline = options.timeout === undefined
      ? undefined
      : AbortSignal.timeout(options.timeout);
    const given = init?.signal ??
      (input instanceof Request ? input.signal : undefined);
    const signal = deadline && given
      ? AbortSignal.any([given, deadline])
      : deadline ?? given ?? undefined;
    try {
      return await send(input, {
        ...init,
        headers,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (deadline?.aborted && !given?.aborted) {
        throw new OAuthError(
          "timeout",
          `${hostOf(input)} did not answer within ${options.timeout} ms`,
          {
            cause: err,
            hint:
              "raise the timeout (LOOKERSDK_TIMEOUT, or timeout in looker.ini, in seconds)",
          },
        );
      }
      throw err;
    }
  };
  return async (input, init) => {
    const method = (init?.method ??
      (input instanceof Request ? input.method : "GET")).toUpperCase();
    const first = await once(input, init);
    if (
      (first.status !== 429 && first.status !== 503) ||
      !IDEMPOTENT.has(method) || init?.body instanceof ReadableStream ||
      (input instanceof Request && input.body !== null)
    ) {
      return first;
    }
    const wait = retryAfter(first.headers.get("retry-after"), now());
    if (wait === undefined || wait > maxWait) return first;
    await first.body?.cancel();
    options.onRetry?.(wait, first);
    await sleep(wait, init?.signal ?? undefined);
    return await once(input, init);
  };
}

/**
 * The wait a `Retry-After` asks for, in milliseconds: delta-seconds or an
 * HTTP date; `undefined` when absent or unreadable.
 */
export function retryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function hostOf(input: string | URL | Request): string {
  try {
    return new URL(input instanceof Request ? input.url : input).host;
  } catch {
    return String(input);
  }
}
