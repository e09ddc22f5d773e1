/**
 * `config.json`: the profiles `looker-oauth login` saves, how they are read
 * and written, the sign-in a profile's tokens belong to and the server a
 * profile describes. No oauth4webapi and no session here
 * (src/store/profiles.ts re-exports all of it).
 *
 * @module
 */
import { OAuthError } from "../core/errors.ts";
import type { AuthServer, ServerMetadata } from "../core/server.ts";
import { lookerServer } from "../core/looker_server.ts";
import {
  ensurePrivateDir,
  probeWrite,
  removeLeftovers,
  writeFileAtomic,
} from "./_atomic.ts";
import { withFileLock } from "./_lock.ts";
import { fileSystemHint, trust, trustFolder } from "./_trust.ts";
import { TokenStoreError } from "./errors.ts";
import type { TokenBinding } from "./file_store.ts";

/** A signed-in person, as `looker-oauth status` shows them. */
export interface ProfileUser {
  /** The user id on the server. */
  id?: string;
  /** The name to show. */
  displayName?: string;
  /** The email address. */
  email?: string;
}

/** What `looker-oauth login` saves so later commands need no flags. Never secret. */
export interface Profile {
  /** A Looker instance, or another OAuth 2.0 / OpenID Connect server. */
  kind: "looker" | "oauth";
  /** The OAuth client id. */
  clientId: string;
  /** The redirect URI of the sign-in (Looker needs it to refresh). */
  redirectUri: string;
  /** The scope asked for. */
  scope?: string;
  /** Looker: the UI host. */
  lookerUrl?: string;
  /** Looker: the API host; others: the base URL for `api`. */
  apiUrl?: string;
  /** Others: the issuer. */
  issuer?: string;
  /** Others: the metadata read at sign-in. */
  metadata?: ServerMetadata;
  /** `http:` was allowed for a host that is not loopback. */
  insecureHttp?: boolean;
  /**
   * A PEM file of the certificate authorities trusted for this instance
   * (an on-premises Looker with a private CA), as an absolute path.
   */
  caFile?: string;
  /**
   * Seconds an API call may take (`LOOKERSDK_TIMEOUT` or looker.ini's
   * `timeout` at sign-in); none when absent.
   */
  timeout?: number;
  /** Who signed in. */
  user?: ProfileUser;
  /** When, in epoch ms. */
  signedInAt?: number;
}

/** The contents of `config.json`. */
export interface ConfigFile {
  /** The format's version. */
  version: 1;
  /** The profiles by name. */
  profiles: Record<string, Profile>;
}

/**
 * The path of `config.json` in a state folder.
 *
 * @param home The state folder (see {@linkcode stateHome}).
 * @returns The path.
 */
export function configPath(home: string): string {
  return `${home}/config.json`;
}

/** A `config.json` is a few KB; anything bigger is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Reads `config.json`. A missing file is empty; an unreadable or invalid one
 * is empty too, with a warning. Before reading, the state folder and the file
 * must belong to the current user; group/other permission bits are cleared
 * (with a warning), since another user able to write them could point the
 * profile's API URL at their own server.
 *
 * @param home The state folder.
 * @param warn Called with a one-line warning.
 * @returns The profiles.
 * @throws {TokenStoreError} `unsafe_permissions` when the folder or the file
 *   belongs to another user or cannot be made private.
 */
export async function readConfig(
  home: string,
  warn: (message: string) => void = () => {},
): Promise<ConfigFile> {
  const path = configPath(home);
  const empty = (): ConfigFile => ({ version: 1, profiles: {} });
  // A missing file is empty; any other failure to read it too, with a warning.
  const unreadable = (err: unknown): ConfigFile => {
    if (!(err instanceof Deno.errors.NotFound)) {
      warn(`could not read ${path}: ${(err as Error).message}`);
    }
    return empty();
  };
  if (!(await trustFolder(home, warn, "shared"))) return empty();
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    return unreadable(err);
  }
  if (!info.isFile || info.size > MAX_CONFIG_BYTES) {
    warn(
      `${path} is ${
        info.isFile ? "larger than 1 MiB" : "not a regular file"
      }; ignoring it`,
    );
    return empty();
  }
  await trust(path, info, "file", warn, "shared");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    return unreadable(err);
  }
  try {
    const data = JSON.parse(text);
    if (
      data && typeof data === "object" && data.profiles &&
      typeof data.profiles === "object" && !Array.isArray(data.profiles)
    ) {
      return { version: 1, profiles: data.profiles };
    }
  } catch {
    // fall through
  }
  warn(`${path} is not valid JSON; ignoring it`);
  return empty();
}

/**
 * Saves one profile into `config.json`, atomically, keeping the others.
 * Writers take `config.lock` in the state folder, so two sign-ins at once
 * (to different profiles) both keep theirs.
 *
 * @param home The state folder.
 * @param name The profile's name.
 * @param profile The profile.
 * @param options How long to wait for another writer's lock.
 * @throws {TokenStoreError} `write_failed` (naming the file, with a hint),
 *   `lock_timeout`, or `unsafe_permissions`.
 */
export async function saveProfile(
  home: string,
  name: string,
  profile: Profile,
  options: { lockTimeout?: number } = {},
): Promise<void> {
  const path = configPath(home);
  try {
    await ensurePrivateDir(home);
  } catch (err) {
    throw writeFailed(home, err, "cannot create");
  }
  // Another user's folder is refused before its lock file is opened.
  await trustFolder(home, () => {}, "shared");
  await withFileLock(`${home}/config.lock`, async () => {
    const config = await readConfig(home);
    config.profiles[name] = profile;
    try {
      await writeFileAtomic(path, JSON.stringify(config, null, 2) + "\n");
    } catch (err) {
      throw writeFailed(path, err);
    }
    await removeLeftovers(path);
  }, options.lockTimeout === undefined ? {} : { timeout: options.lockTimeout });
}

/**
 * Checks, before a sign-in, that {@linkcode saveProfile} will be able to
 * write `config.json`: creates the state folder (0700) and writes and deletes
 * a small probe file in it.
 *
 * @param home The state folder.
 * @throws {TokenStoreError} `write_failed` naming the file, with a hint.
 */
export async function checkConfigWritable(home: string): Promise<void> {
  try {
    await ensurePrivateDir(home);
  } catch (err) {
    throw writeFailed(home, err, "cannot create");
  }
  try {
    await probeWrite(configPath(home));
  } catch (err) {
    throw writeFailed(configPath(home), err, "cannot write");
  }
}

function writeFailed(
  path: string,
  err: unknown,
  what = "could not save",
): TokenStoreError {
  return new TokenStoreError(
    "write_failed",
    `${what} ${path}: ${err instanceof Error ? err.message : err}`,
    { path, cause: err, hint: fileSystemHint(err, path) },
  );
}

/**
 * The sign-in a profile's tokens belong to: its client id and the server
 * that issued them (Looker: the API URL; others: the issuer). Saved in the
 * token file and checked on load, so a profile never uses another sign-in's
 * tokens (two logins of one profile at once, say).
 *
 * @param profile The profile.
 * @returns The binding.
 */
export function profileBinding(profile: Profile): TokenBinding {
  return {
    clientId: profile.clientId,
    server:
      (profile.kind === "looker"
        ? profile.apiUrl ?? profile.lookerUrl
        : profile.issuer) ?? "",
  };
}

/**
 * The {@linkcode AuthServer} a saved profile describes.
 *
 * @param profile The profile.
 * @returns The server.
 * @throws {OAuthError} `login_required` for an OAuth profile without the
 *   server metadata saved at sign-in.
 */
export function profileServer(profile: Profile): AuthServer {
  if (profile.kind === "looker") {
    return lookerServer({
      lookerUrl: profile.lookerUrl!,
      apiUrl: profile.apiUrl ?? profile.lookerUrl!,
      allowInsecureHttp: profile.insecureHttp === true,
    });
  }
  if (!profile.metadata) {
    throw new OAuthError(
      "login_required",
      "the profile has no server metadata",
      {
        hint: "sign in again: looker-oauth login --issuer URL",
      },
    );
  }
  return {
    metadata: profile.metadata,
    allowInsecureHttp: profile.insecureHttp === true,
  };
}
