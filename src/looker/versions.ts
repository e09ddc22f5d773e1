/**
 * Finding a Looker instance's UI and API hosts from one of them, with
 * `GET /api/versions`.
 *
 * @module
 */
import type { HttpOptions } from "../core/http_options.ts";
import { OAuthError } from "../core/errors.ts";
import { boundedFetch, lookerApiBase } from "../core/transport.ts";
import type { LookerHosts } from "../core/server.ts";

/** What `GET {api}/api/versions` says about the hosts. */
export interface LookerVersions {
  /** The API host, e.g. `https://example.looker.com:19999`. */
  readonly apiServerUrl: string;
  /** The UI host, e.g. `https://example.looker.com`. */
  readonly webServerUrl: string;
  /** The Looker release, e.g. `25.0.0`. */
  readonly lookerReleaseVersion: string | undefined;
}

/**
 * Reads `GET {apiUrl}/api/versions` (no authentication needed).
 *
 * @param apiUrl A candidate API URL.
 * @param options Transport options.
 * @returns The hosts Looker reports.
 * @throws {OAuthError} `discovery_failed` when the answer is not Looker's;
 *   `timeout` and `network_error`.
 *
 * @example
 * ```ts ignore
 * import { fetchLookerVersions } from "@looker-oauth/pkce";
 *
 * const v = await fetchLookerVersions("https://example.looker.com:19999");
 * console.log(v.webServerUrl);
 * ```
 */
export async function fetchLookerVersions(
  apiUrl: string,
  options: HttpOptions = {},
): Promise<LookerVersions> {
  const url = `${lookerApiBase(apiUrl)}/api/versions`;
  const send = boundedFetch({ ...options, timeout: options.timeout ?? 10_000 });
  const response = await send(url, { headers: { accept: "application/json" } });
  let body: Record<string, unknown> | undefined;
  try {
    body = response.ok ? await response.json() : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) await response.body?.cancel();
  const api = body?.api_server_url;
  const web = body?.web_server_url;
  if (typeof api !== "string" || typeof web !== "string") {
    throw new OAuthError(
      "discovery_failed",
      `${url} is not a Looker API (${response.status})`,
      { status: response.status },
    );
  }
  const release = body?.looker_release_version;
  return {
    apiServerUrl: api.replace(/\/+$/, ""),
    webServerUrl: web.replace(/\/+$/, ""),
    lookerReleaseVersion: typeof release === "string" ? release : undefined,
  };
}

/**
 * Completes a Looker instance's hosts from whichever the person gave: with
 * both, nothing is fetched; with only the API URL, `/api/versions` names the
 * UI host; with only the UI URL, `/api/versions` is tried on it and then on
 * port 19999 of the same host.
 *
 * @param given The URLs the person gave (at least one).
 * @param options Transport options.
 * @returns Both hosts.
 * @throws {OAuthError} `invalid_argument` when neither URL is given;
 *   `discovery_failed` when the other host cannot be found.
 *
 * @example
 * ```ts ignore
 * import { resolveLookerHosts } from "@looker-oauth/pkce";
 *
 * const hosts = await resolveLookerHosts({ apiUrl: "https://x.looker.com:19999" });
 * ```
 */
export async function resolveLookerHosts(
  given: { lookerUrl?: string; apiUrl?: string },
  options: HttpOptions = {},
): Promise<LookerHosts> {
  if (given.lookerUrl && given.apiUrl) {
    return { lookerUrl: given.lookerUrl, apiUrl: given.apiUrl };
  }
  if (given.apiUrl) {
    const v = await fetchLookerVersions(given.apiUrl, options).catch((err) => {
      throw new OAuthError(
        "discovery_failed",
        `could not find the Looker UI host from ${given.apiUrl}`,
        {
          cause: err,
          hint:
            "give the UI URL too (--looker-url): /auth lives on the UI host",
        },
      );
    });
    return { lookerUrl: v.webServerUrl, apiUrl: given.apiUrl };
  }
  if (!given.lookerUrl) {
    throw new OAuthError("invalid_argument", "no Looker URL given", {
      hint: "pass --looker-url https://your.looker.com",
    });
  }
  const candidates = [given.lookerUrl];
  try {
    const u = new URL(given.lookerUrl);
    if (u.port !== "19999") {
      u.port = "19999";
      candidates.push(u.origin);
    }
  } catch {
    // lookerServer() reports the bad URL
  }
  let first: unknown;
  for (const candidate of candidates) {
    try {
      const v = await fetchLookerVersions(candidate, options);
      return { lookerUrl: given.lookerUrl, apiUrl: v.apiServerUrl };
    } catch (err) {
      first ??= err; // kept as the cause; try the next candidate
    }
  }
  throw new OAuthError(
    "discovery_failed",
    `could not find the Looker API host for ${given.lookerUrl} (tried ${
      candidates.map((c) => `${c}/api/versions`).join(" and ")
    })`,
    {
      cause: first,
      hint:
        "give the API URL too (--api-url), e.g. https://your.looker.com:19999 or https://your.looker.com",
    },
  );
}
