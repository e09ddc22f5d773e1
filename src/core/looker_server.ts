/**
 * Looker's two hosts as an {@linkcode AuthServer}: the checks and the
 * endpoints, without oauth4webapi (src/core/server.ts re-exports it).
 *
 * @module
 */
import type { AuthServer, TokenRequestBody } from "./server.ts";
import { baseOf, lookerApiBase, parseEndpoint } from "./transport.ts";

/** Options for {@linkcode lookerServer}. */
export interface LookerServerOptions {
  /** The Looker UI URL (where people sign in), e.g. `https://example.looker.com`. */
  lookerUrl: string | URL;
  /**
   * The Looker API URL, e.g. `https://example.looker.com:19999`. Defaults to
   * `lookerUrl`. A trailing `/api/4.0` (as in `LOOKERSDK_BASE_URL`) is removed.
   */
  apiUrl?: string | URL;
  /** Accept `http:` on hosts that are not loopback. Default `false`. */
  allowInsecureHttp?: boolean;
  /**
   * How token requests carry their parameters. Default `form`; browser apps
   * send `json`, as Looker's CORS examples do.
   */
  tokenRequestBody?: TokenRequestBody;
}

/**
 * Describes a Looker instance: `/auth` on the UI host, `/api/token` and
 * `/api/4.0/logout` on the API host.
 *
 * @param options The UI URL and, when it differs, the API URL.
 * @returns The server description.
 * @throws {OAuthError} `invalid_argument` for a malformed URL, `insecure_http`
 *   for `http:` on a non-loopback host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookerServer } from "@looker-oauth/pkce/core";
 *
 * const server = lookerServer({
 *   lookerUrl: "https://example.looker.com",
 *   apiUrl: "https://example.looker.com:19999",
 * });
 * assert.equal(
 *   server.metadata.token_endpoint,
 *   "https://example.looker.com:19999/api/token",
 * );
 * ```
 */
export function lookerServer(options: LookerServerOptions): AuthServer {
  const insecure = options.allowInsecureHttp === true;
  const ui = parseEndpoint(options.lookerUrl, "the Looker URL", insecure);
  const api = parseEndpoint(
    options.apiUrl ?? options.lookerUrl,
    "the Looker API URL",
    insecure,
  );
  const lookerUrl = baseOf(ui);
  const apiUrl = lookerApiBase(baseOf(api));
  return {
    metadata: {
      issuer: lookerUrl,
      authorization_endpoint: `${lookerUrl}/auth`,
      token_endpoint: `${apiUrl}/api/token`,
      code_challenge_methods_supported: ["S256"],
    },
    looker: { lookerUrl, apiUrl },
    allowInsecureHttp: insecure,
    ...(options.tokenRequestBody === "json"
      ? { tokenRequestBody: "json" as const }
      : {}),
  };
}
