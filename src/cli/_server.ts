// Private: what every command's requests to a profile's server share — the
// server the profile describes, the polite fetch with --debug, the API
// timeout — without the session (no oauth4webapi, no refresh): `api` with a
// valid token sends through these alone.
import type { AuthServer } from "../core/server.ts";
import { OAuthError } from "../core/errors.ts";
import { profileBinding, profileServer } from "../store/config_file.ts";
import { caFileFetch } from "../store/ca_file.ts";
import type { FileTokenStore } from "../store/file_store.ts";
import { politeFetch } from "../looker/http.ts";
import { VERSION } from "./_version.ts";
import { CliError, EXIT } from "./_errors.ts";
import type { Io } from "./_io.ts";
import { type Profile, readConfig } from "./_config.ts";
import { signInHint, tokenStore } from "./_profile.ts";

/** The AuthServer a saved profile describes; exit 3 when it cannot be used. */
export function serverFor(profile: Profile): AuthServer {
  try {
    return profileServer(profile);
  } catch (err) {
    if (err instanceof OAuthError) {
      throw new CliError(err.message, {
        exitCode: EXIT.signIn,
        ...(err.hint === undefined ? {} : { hint: err.hint }),
      });
    }
    throw err;
  }
}

/** A fetch that logs each request's method, URL (no query) and status on --debug. */
export function debugFetch(
  io: Io,
  base: typeof fetch = (input, init) => fetch(input, init),
): typeof fetch {
  if (!io.debugging) return base;
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const started = performance.now();
    io.debug(`→ ${request.method} ${url.origin}${url.pathname}`);
    const response = await base(request);
    io.debug(
      `← ${response.status} ${url.origin}${url.pathname} (${
        Math.round(performance.now() - started)
      } ms, ${response.headers.get("content-type") ?? "no content type"})`,
    );
    return response;
  };
}

/** What every request to a server carries as `x-looker-appid`. */
export const APP_ID = `looker-oauth/${VERSION}`;

/**
 * The `fetch` for a server: `x-looker-appid`, one wait-and-retry on a 429 or
 * 503 with `Retry-After` (idempotent methods only), the API timeout if set,
 * the instance's CA if any, and the --debug log of every attempt.
 */
export function serverFetch(
  io: Io,
  options: { base?: typeof fetch; timeoutSec?: number } = {},
): typeof fetch {
  return politeFetch({
    fetch: debugFetch(io, options.base),
    appId: APP_ID,
    ...(options.timeoutSec === undefined
      ? {}
      : { timeout: options.timeoutSec * 1000 }),
    onRetry: (wait, response) =>
      io.err(
        `looker-oauth: the server answered ${response.status}; retrying once in ${
          Math.ceil(wait / 1000)
        } s, as its Retry-After asks`,
      ),
  });
}

/**
 * The API timeout in seconds: LOOKERSDK_TIMEOUT, else what `login` saved
 * (from looker.ini's `timeout`); none by default.
 */
export function apiTimeout(io: Io, profile?: Profile): number | undefined {
  const text = io.env("LOOKERSDK_TIMEOUT");
  if (text === undefined || text === "") return profile?.timeout;
  return parseTimeout(text, "LOOKERSDK_TIMEOUT");
}

/** A timeout in seconds (above 0, at most a day); a usage error otherwise. */
export function parseTimeout(text: string, what: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new CliError(`${what} must be a number of seconds (0 < s <= 86400)`, {
      exitCode: EXIT.usage,
    });
  }
  return seconds;
}

/** Reads the profile saved by `login`; exit 3 when there is none. */
export async function loadProfile(
  home: string,
  name: string,
  io: Io,
): Promise<Profile> {
  const config = await readConfig(home, io.err);
  const profile = config.profiles[name];
  if (!profile) {
    throw new CliError(`no profile "${name}": not signed in`, {
      exitCode: EXIT.signIn,
      hint: signInHint(name),
    });
  }
  return profile;
}

/** `{ timeoutSec }` when a timeout is set, else nothing. */
export function timeoutOption(
  seconds: number | undefined,
): { timeoutSec?: number } {
  return seconds === undefined ? {} : { timeoutSec: seconds };
}

/** What requests with a profile's token go through. */
export interface ProfileConnection {
  /** The profile saved by `login`. */
  readonly profile: Profile;
  /** The server it describes. */
  readonly server: AuthServer;
  /** Its token file, bound to its sign-in. */
  readonly store: FileTokenStore;
  /** Where its token may go (without one, Looker's API URL). */
  readonly apiUrl: string | undefined;
  /** The server's fetch: its CA, the timeout, polite headers, --debug. */
  readonly fetch: typeof fetch;
}

/**
 * Reads a profile and everything a request with its token needs, without
 * opening the session: exit 3 when it is not signed in or cannot be used.
 */
export async function connectProfile(
  options: { home: string; profile: string; io: Io; store?: FileTokenStore },
): Promise<ProfileConnection> {
  const { home, io } = options;
  const profile = await loadProfile(home, options.profile, io);
  const server = serverFor(profile);
  // Tokens saved by another sign-in of this profile (another client or
  // server) read as signed out rather than being sent with these settings.
  const store = (options.store ?? tokenStore(io, home, options.profile))
    .withBinding(profileBinding(profile));
  // The token goes only to the API URL, or without one to the issuer's
  // origin (the session refuses any other).
  const apiUrl = profile.apiUrl ??
    (profile.kind === "oauth" ? profile.issuer : undefined);
  // A private CA trusted for this instance only (login --ca-file).
  const base = profile.caFile ? await caFileFetch(profile.caFile) : undefined;
  const fetch = serverFetch(io, {
    ...(base ? { base } : {}),
    ...timeoutOption(apiTimeout(io, profile)),
  });
  return { profile, server, store, apiUrl, fetch };
}
