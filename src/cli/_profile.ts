// Private: which profile a command works on, and where its files are. Kept
// apart from _config.ts so that `token` loads only this (see bench/).
import { FileTokenStore } from "../store/file_store.ts";
import { stateHome } from "../store/home.ts";
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
  return {
    home,
    profile,
    store: new FileTokenStore({ home, profile, onWarning: io.err }),
  };
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
