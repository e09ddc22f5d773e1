// Private: which profile a command works on, and where its files are. Kept
// apart from _config.ts so that `token` loads only this
// (docs/architecture.md, "Keeping `token` fast").
import { FileTokenStore } from "../store/file_store.ts";
import { stateHome } from "../store/home.ts";
import { UsageError } from "./_args.ts";
import type { Io } from "./_io.ts";

/** A command's local state: the state folder, the profile, its tokens. */
export interface LocalState {
  home: string;
  profile: string;
  store: FileTokenStore;
}

/** Locates the state folder and the profile (`--profile` given or not). */
export function localState(
  io: Io,
  profileFlag: string | undefined,
): LocalState {
  const env = (name: string) => io.env(name);
  const home = stateHome(env);
  const profile = profileName(profileFlag, env);
  return { home, profile, store: tokenStore(io, home, profile) };
}

/** The token store of a profile, waiting for its lock as configured. */
export function tokenStore(
  io: Io,
  home: string,
  profile: string,
): FileTokenStore {
  const lockTimeout = lockTimeoutMs((name) => io.env(name));
  return new FileTokenStore({
    home,
    profile,
    onWarning: (message) => io.err(`looker-oauth: ${message}`),
    ...(lockTimeout === undefined ? {} : { lockTimeout }),
  });
}

/** The longest `LOOKER_OAUTH_LOCK_TIMEOUT` taken: one day, in seconds. */
const MAX_LOCK_TIMEOUT_S = 86_400;

/**
 * `LOOKER_OAUTH_LOCK_TIMEOUT` (seconds) in ms; `undefined` when unset.
 *
 * @throws {UsageError} When it is not a number of seconds in (0, 86400].
 */
export function lockTimeoutMs(
  env: (name: string) => string | undefined,
): number | undefined {
  const text = env("LOOKER_OAUTH_LOCK_TIMEOUT");
  if (text === undefined || text === "") return undefined;
  const seconds = Number(text);
  if (
    !/^\s*[0-9.]+\s*$/.test(text) || !Number.isFinite(seconds) ||
    seconds <= 0 || seconds > MAX_LOCK_TIMEOUT_S
  ) {
    throw new UsageError(
      `LOOKER_OAUTH_LOCK_TIMEOUT takes a number of seconds above 0 and at most ${MAX_LOCK_TIMEOUT_S} (got "${text}")`,
    );
  }
  return Math.round(seconds * 1000);
}

/** The command that signs this profile in again. */
export function signInHint(profile: string): string {
  return `sign in first: looker-oauth login${
    profile === "default" ? "" : ` --profile ${profile}`
  }`;
}

/** The profile name: --profile > LOOKER_OAUTH_PROFILE > "default". */
export function profileName(
  flag: string | undefined,
  env: (name: string) => string | undefined,
): string {
  return flag ?? env("LOOKER_OAUTH_PROFILE") ?? "default";
}
