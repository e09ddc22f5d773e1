// `looker-oauth status`: who is signed in, where, and until when. Offline.
import { parseArgs, str, UsageError } from "./_args.ts";
import { type Profile, readConfig } from "./_config.ts";
import type { TokenSet } from "../core/token.ts";
import { FileTokenStore } from "../store/file_store.ts";
import { profileBinding } from "../store/profiles.ts";
import { localState } from "./_profile.ts";
import { EXIT } from "./_errors.ts";
import { shown } from "./_text.ts";
import type { Env, Io } from "./_io.ts";

export const HELP =
  `Usage: looker-oauth status [--profile NAME | --all] [--json]

Shows who is signed in, to which server, with which client, and when the
access token expires. Reads local files only; no token is printed.

Flags:
  --profile NAME   the profile (default: $LOOKER_OAUTH_PROFILE, else "default")
  --all            every profile: instance, user, expiry, refresh token held
  --json           print a JSON object (with --all, an array) on stdout

With --debug, also where each setting comes from (the profile name, the state
folder, the CA file, the API timeout).

Exit codes: 0 signed in (with --all: at least one profile is); 3 not signed
in.`;

/** What `status` was asked. */
export interface StatusOptions {
  /** `--profile`, if given. */
  readonly profile: string | undefined;
  /** `--json`: one JSON object on stdout. */
  readonly json: boolean;
  /** `--all`: every profile. */
  readonly all: boolean;
}

/** Reads `status`'s flags. */
export function parseStatus(argv: string[], _env: Env): StatusOptions {
  const args = parseArgs(
    argv,
    { string: ["profile"], boolean: ["json", "all"] },
    "status",
  );
  const all = args.flags.all === true;
  if (all && str(args, "profile") !== undefined) {
    throw new UsageError("--all shows every profile: drop --profile", "status");
  }
  return { profile: str(args, "profile"), json: args.flags.json === true, all };
}

/** Shows who is signed in, where, and until when; reads local files only. */
export async function runStatus(
  options: StatusOptions,
  io: Io,
): Promise<number> {
  if (options.all) return await runStatusAll(options, io);
  const { home, profile: name, store } = localState(io, options.profile);
  const config = await readConfig(home, io.err);
  const profile = config.profiles[name];
  // Tokens of another sign-in (another client or server) are not this
  // profile's: they read as signed out.
  const tokens =
    await (profile ? store.withBinding(profileBinding(profile)) : store).load();
  const now = io.now();
  if (io.debugging) debugSources(io, name, options.profile, home, profile);
  // Expired with no refresh token: nothing can renew it, sign in again.
  const renewable = tokens !== undefined &&
    (tokens.expiresAt > now || tokens.refreshToken !== undefined);
  const signedIn = renewable && profile !== undefined;
  const status = {
    profile: name,
    signedIn,
    server: profile
      ? profile.kind === "looker"
        ? {
          kind: "looker",
          lookerUrl: profile.lookerUrl,
          apiUrl: profile.apiUrl,
        }
        : { kind: "oauth", issuer: profile.issuer }
      : null,
    clientId: profile?.clientId ?? null,
    redirectUri: profile?.redirectUri ?? null,
    user: profile?.user ?? null,
    scope: tokens?.scope ?? profile?.scope ?? null,
    accessToken: tokens ? accessTokenStatus(tokens, now) : null,
    refreshToken: tokens ? tokens.refreshToken !== undefined : null,
    tokenFile: store.path,
  };
  if (options.json) {
    io.out(`${JSON.stringify(status, null, 2)}\n`);
    return signedIn ? EXIT.ok : EXIT.signIn;
  }
  if (!signedIn) {
    io.out(
      tokens && profile
        ? `Signed out: the access token of profile "${name}" expired and there is no refresh token.\n`
        : `Not signed in (profile "${name}").\n`,
    );
    io.err(
      `Sign in with: looker-oauth login${
        profile
          ? (name === "default" ? "" : ` --profile ${name}`)
          : " --looker-url URL --client-id ID"
      }`,
    );
    return EXIT.signIn;
  }
  const lines: string[] = [];
  const where = profile.kind === "looker"
    ? `${profile.lookerUrl} (API ${profile.apiUrl})`
    : profile.issuer;
  const user = profile.user;
  lines.push(
    `Signed in to ${where}${
      user
        ? ` as ${user.displayName ?? user.id}${
          user.email ? ` <${user.email}>` : ""
        }`
        : ""
    }`,
  );
  lines.push(`  profile:        ${name}`);
  lines.push(`  client id:      ${profile.clientId}`);
  lines.push(`  redirect URI:   ${profile.redirectUri}`);
  if (status.scope) lines.push(`  scope:          ${status.scope}`);
  const left = Math.round((tokens.expiresAt - now) / 1000);
  lines.push(
    `  access token:   ${
      left > 0
        ? `valid for ${duration(left)} (until ${
          new Date(tokens.expiresAt).toISOString()
        })`
        : `expired ${duration(-left)} ago`
    }`,
  );
  lines.push(
    `  refresh token:  ${
      tokens.refreshToken
        ? "yes (used automatically when the access token expires)"
        : "none (sign in again when it expires)"
    }`,
  );
  lines.push(`  token file:     ${store.path}`);
  // Names, scope and URLs may come from the server: no control characters.
  io.out(`${lines.map(shown).join("\n")}\n`);
  return EXIT.ok;
}

/** The access token's expiry as `status` and `status --all` report it. */
function accessTokenStatus(
  tokens: TokenSet,
  now: number,
): { expiresAt: string; expiresInSeconds: number; expired: boolean } {
  return {
    expiresAt: new Date(tokens.expiresAt).toISOString(),
    expiresInSeconds: Math.round((tokens.expiresAt - now) / 1000),
    expired: tokens.expiresAt <= now,
  };
}

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** One line per profile, or a JSON array: `status --all`. */
async function runStatusAll(options: StatusOptions, io: Io): Promise<number> {
  const { home } = localState(io, undefined);
  const config = await readConfig(home, io.err);
  const now = io.now();
  const rows = [];
  for (const name of Object.keys(config.profiles).sort()) {
    const profile = config.profiles[name]!;
    let tokens;
    try {
      tokens = await new FileTokenStore({
        home,
        profile: name,
        onWarning: io.err,
        binding: profileBinding(profile),
      })
        .load();
    } catch (err) {
      io.err(`looker-oauth: profile "${name}": ${(err as Error).message}`);
    }
    const renewable = tokens !== undefined &&
      (tokens.expiresAt > now || tokens.refreshToken !== undefined);
    rows.push({
      profile: name,
      signedIn: renewable,
      instance: instanceOf(profile),
      user: profile.user ?? null,
      accessToken: tokens ? accessTokenStatus(tokens, now) : null,
      refreshToken: tokens ? tokens.refreshToken !== undefined : false,
    });
  }
  const anySignedIn = rows.some((r) => r.signedIn);
  if (options.json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return anySignedIn ? EXIT.ok : EXIT.signIn;
  }
  if (rows.length === 0) {
    io.out("No profiles.\n");
    io.err("Sign in with: looker-oauth login --looker-url URL --client-id ID");
    return EXIT.signIn;
  }
  const table = [
    ["PROFILE", "INSTANCE", "USER", "ACCESS TOKEN", "REFRESH TOKEN"],
    ...rows.map((r) =>
      [
        r.profile,
        r.instance ?? "?",
        r.user ? r.user.email ?? r.user.displayName ?? r.user.id ?? "?" : "-",
        !r.accessToken
          ? "signed out"
          : r.accessToken.expired
          ? `expired ${duration(-r.accessToken.expiresInSeconds)} ago`
          : `valid for ${duration(r.accessToken.expiresInSeconds)}`,
        r.refreshToken ? "yes" : "no",
      ].map(shown)
    ),
  ];
  const widths = table[0]!.map((_, i) =>
    Math.max(...table.map((row) => row[i]!.length))
  );
  io.out(
    `${
      table.map((row) =>
        row.map((cell, i) =>
          i === row.length - 1 ? cell : cell.padEnd(widths[i]!)
        )
          .join("  ")
      ).join("\n")
    }\n`,
  );
  return anySignedIn ? EXIT.ok : EXIT.signIn;
}

/** The instance a profile signed in to: Looker's UI host, or the issuer. */
function instanceOf(profile: Profile): string | null {
  return (profile.kind === "looker" ? profile.lookerUrl : profile.issuer) ??
    null;
}

/** --debug: where each setting of the commands after `login` comes from. */
function debugSources(
  io: Io,
  name: string,
  flag: string | undefined,
  home: string,
  profile: Profile | undefined,
): void {
  const env = (key: string) => io.env(key);
  io.debug(
    `profile "${name}" from ${
      flag !== undefined
        ? "--profile"
        : env("LOOKER_OAUTH_PROFILE")
        ? "LOOKER_OAUTH_PROFILE"
        : "the default"
    }`,
  );
  io.debug(
    `state folder ${home} from ${
      env("LOOKER_OAUTH_HOME")
        ? "LOOKER_OAUTH_HOME"
        : env("XDG_CONFIG_HOME")
        ? "XDG_CONFIG_HOME"
        : "the home folder"
    }`,
  );
  if (!profile) return;
  io.debug(
    `server, client id, redirect URI and scope from the profile saved by login${
      profile.signedInAt
        ? ` at ${new Date(profile.signedInAt).toISOString()}`
        : ""
    } (login --debug shows where login took each)`,
  );
  io.debug(
    profile.caFile
      ? `CA file ${profile.caFile} from the profile`
      : "CA file: none (the system's roots)",
  );
  const timeout = env("LOOKERSDK_TIMEOUT");
  io.debug(
    timeout
      ? `API timeout ${timeout} s from LOOKERSDK_TIMEOUT`
      : profile.timeout !== undefined
      ? `API timeout ${profile.timeout} s from the profile`
      : "API timeout: none",
  );
}
