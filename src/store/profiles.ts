/**
 * The profiles `looker-oauth login` saves (`config.json`), and the signed-in
 * session of one of them, for scripts that reuse a CLI sign-in.
 *
 * @module
 */
import { OAuthError } from "../core/errors.ts";
import type { AuthServer } from "../core/server.ts";
import { TokenSession } from "../core/session.ts";
import { caFileClient, withClient } from "./ca_file.ts";
import { FileTokenStore } from "./file_store.ts";
import { type EnvReader, stateHome } from "./home.ts";
import {
  type Profile,
  profileBinding,
  profileServer,
  readConfig,
} from "./config_file.ts";

// config.json itself needs neither oauth4webapi nor the session: kept apart
// so that `looker-oauth api` with a valid token loads neither.
export {
  checkConfigWritable,
  type ConfigFile,
  configPath,
  type Profile,
  profileBinding,
  profileServer,
  type ProfileUser,
  readConfig,
  saveProfile,
} from "./config_file.ts";

/** Options for {@linkcode openProfile}. */
export interface OpenProfileOptions {
  /**
   * The profile: default `$LOOKER_OAUTH_PROFILE`, else `default`.
   */
  profile?: string;
  /** The state folder: default {@linkcode stateHome}. */
  home?: string;
  /** Reads environment variables; `Deno.env.get` by default. */
  env?: EnvReader;
  /**
   * The `fetch` under the session. Default: the global one, or one trusting
   * the profile's CA file.
   */
  fetch?: typeof fetch;
  /** Called with a one-line warning (a corrupt file ignored, ...). */
  onWarning?: (message: string) => void;
}

/** A profile's signed-in session, from {@linkcode openProfile}. */
export interface ProfileSession {
  /** The profile's name. */
  name: string;
  /** What `login` saved. */
  profile: Profile;
  /** The server it signed in to. */
  server: AuthServer;
  /** Its tokens. */
  store: FileTokenStore;
  /** The session: refreshes through the store's cross-process lock. */
  session: TokenSession;
  /**
   * The `fetch` for every request to this instance (it trusts the profile's
   * CA file, if any).
   */
  fetch: typeof fetch;
  /** The HTTP client trusting the profile's CA file, if it has one. */
  client?: Deno.HttpClient;
}

/**
 * Opens the session `looker-oauth login` saved: its profile, its token file
 * and a {@linkcode TokenSession} that refreshes under the same lock as the
 * CLI, so a script and the CLI never spend the same refresh token twice.
 *
 * @param options The profile and where the state is.
 * @returns The session and what it is made of.
 * @throws {OAuthError} `login_required` when the profile does not exist.
 * @throws {TokenStoreError} `invalid_profile` for a bad profile name.
 *
 * @example
 * ```ts ignore
 * import { openProfile } from "@looker-oauth/pkce";
 *
 * const { session } = await openProfile({ profile: "work" });
 * const me = await (await session.fetch("/api/4.0/user")).json();
 * ```
 */
export async function openProfile(
  options: OpenProfileOptions = {},
): Promise<ProfileSession> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const home = options.home ?? stateHome(env);
  const name = options.profile ?? env("LOOKER_OAUTH_PROFILE") ?? "default";
  const warn = options.onWarning ?? (() => {});
  const unbound = new FileTokenStore({ home, profile: name, onWarning: warn });
  const profile = (await readConfig(home, warn)).profiles[name];
  if (!profile) {
    throw new OAuthError(
      "login_required",
      `no profile "${name}": not signed in`,
      {
        hint: `sign in first: looker-oauth login${
          name === "default" ? "" : ` --profile ${name}`
        }`,
      },
    );
  }
  const server = profileServer(profile);
  const store = unbound.withBinding(profileBinding(profile));
  const client = profile.caFile
    ? await caFileClient(profile.caFile)
    : undefined;
  const fetch = options.fetch ??
    (client
      ? withClient(client)
      : (input: string | URL | Request, init?: RequestInit) =>
        globalThis.fetch(input, init));
  const session = new TokenSession({
    server,
    clientId: profile.clientId,
    // Looker repeats the redirect URI on refresh; other servers need none.
    ...(profile.kind === "looker" ? { redirectUri: profile.redirectUri } : {}),
    store,
    fetch,
    ...(profile.apiUrl === undefined ? {} : { apiUrl: profile.apiUrl }),
  });
  return {
    name,
    profile,
    server,
    store,
    session,
    fetch,
    ...(client === undefined ? {} : { client }),
  };
}
