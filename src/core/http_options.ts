/**
 * Transport options shared by every function that talks to a server.
 *
 * @module
 */

/**
 * How requests are sent: which `fetch`, how long to wait, how much to read.
 *
 * @example A shorter timeout and an instrumented fetch
 * ```ts
 * import type { HttpOptions } from "@looker-oauth/pkce/core";
 *
 * const http: HttpOptions = {
 *   timeout: 5_000,
 *   fetch: (input, init) => fetch(input, init),
 * };
 * ```
 */
export interface HttpOptions {
  /** The `fetch` to use; the global one when omitted. Inject it, never stub it. */
  fetch?: typeof fetch;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Milliseconds before a request (headers and body) is abandoned. Default 30 000. */
  timeout?: number;
  /** Largest response body read, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
}
