// `looker-oauth status`: who is signed in, where, and until when. Offline.
import { parseArgs, str } from "./_args.ts";
import { readConfig } from "./_config.ts";
import { localState } from "./_profile.ts";
import { EXIT } from "./_errors.ts";
import { shown } from "./_text.ts";
import type { Env, Io } from "./_io.ts";

export const HELP = `Usage: looker-oauth status [--profile NAME] [--json]

Shows who is signed in, to which server, with which client, and when the
access token expires. Reads local files only; no token is printed.

Flags:
  --profile NAME   the profile (default: $LOOKER_OAUTH_PROFILE, else "default")
  --json           print a JSON object on stdout

Exit codes: 0 signed in (a refresh may be due); 3 not signed in.`;

/** What `status` was asked. */
export interface StatusOptions {
  /** `--profile`, if given. */
  readonly profile: string | undefined;
  /** `--json`: one JSON object on stdout. */
  readonly json: boolean;
}

/** Reads `status`'s flags. */
export function parseStatus(argv: string[], _env: Env): StatusOptions {
  const args = parseArgs(
    argv,
    { string: ["profile"], boolean: ["json"] },
    "status",
  );
  return { profile: str(args, "profile"), json: args.flags.json === true };
}

/** Shows who is signed in, where, and until when; reads local files only. */
export async function runStatus(
  options: StatusOptions,
  io: Io,
): Promise<number> {
  const { home, profile: name, store } = localState(io, options.profile);
  const config = await readConfig(home, io.err);
  const profile = config.profiles[name];
  const tokens = await store.load();
  const now = io.now();
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
    accessToken: tokens
      ? {
        expiresAt: new Date(tokens.expiresAt).toISOString(),
        expiresInSeconds: Math.round((tokens.expiresAt - now) / 1000),
        expired: tokens.expiresAt <= now,
      }
      : null,
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

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
