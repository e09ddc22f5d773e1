// `looker-oauth logout`: end the session on the server, forget the tokens.
import { OAuthError } from "../core/errors.ts";
import type { AuthServer } from "../core/server.ts";
import type { SignOutResult } from "../core/session.ts";
import { parseArgs, str } from "./_args.ts";
import { readConfig } from "./_config.ts";
import { localState } from "./_profile.ts";
import { EXIT } from "./_errors.ts";
import type { Env, Io } from "./_io.ts";
import { shown } from "./_text.ts";
import { openSession } from "./_session.ts";

export const HELP = `Usage: looker-oauth logout [--profile NAME] [--local]

Ends the session on the server (Looker: DELETE /api/4.0/logout, which also
kills the refresh token; others: RFC 7009 revocation when offered), then
deletes the local tokens. The profile's settings are kept, so
'looker-oauth login' needs no flags next time.

When the server refuses for good (for example it does not let a public
client revoke), the local tokens are deleted anyway, with a warning that
they may stay valid on the server until they expire (exit 0). When the
server cannot be reached, times out or fails (5xx), they are kept (exit 1):
try again, or pass --local.

Flags:
  --profile NAME   the profile (default: $LOOKER_OAUTH_PROFILE, else "default")
  --local          only delete the local tokens; do not contact the server

Exit codes: 0 signed out (or nothing to do); 1 the server could not end the
session (the local tokens are kept); 2 usage; 3 the saved profile can no
longer be used (pass --local, or sign in again).`;

/** What `logout` was asked. */
export interface LogoutOptions {
  /** `--profile`, if given. */
  readonly profile: string | undefined;
  /** `--local`: delete the local tokens without contacting the server. */
  readonly local: boolean;
}

/** Reads `logout`'s flags. */
export function parseLogout(argv: string[], _env: Env): LogoutOptions {
  const args = parseArgs(
    argv,
    { string: ["profile"], boolean: ["local"] },
    "logout",
  );
  return { profile: str(args, "profile"), local: args.flags.local === true };
}

/** Ends the session on the server, then deletes the local tokens. */
export async function runLogout(
  options: LogoutOptions,
  io: Io,
): Promise<number> {
  const { home, profile: name, store } = localState(io, options.profile);
  const config = await readConfig(home, io.err);
  if (!(await store.load())) {
    io.err(`Not signed in (profile "${name}"); nothing to do.`);
    return EXIT.ok;
  }
  if (options.local || !config.profiles[name]) {
    await store.clear();
    io.err(
      `Deleted the local tokens of profile "${name}" (the server was not contacted).`,
    );
    return EXIT.ok;
  }
  const { session, profile, server } = await openSession({
    home,
    profile: name,
    io,
    store,
  });
  const where = profile.lookerUrl ?? profile.issuer;
  try {
    const result = await session.signOut();
    for (const line of signedOutLines(result, where ?? "the server", server)) {
      io.err(shown(line));
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof OAuthError) {
      io.err(
        shown(
          `looker-oauth: ${
            failureText(err, where ?? "the server")
          }; the local tokens are kept.`,
        ),
      );
      io.err(
        "hint: try again, or run 'looker-oauth logout --local' to only delete them here",
      );
      return EXIT.failure;
    }
    throw err;
  }
}

/** What to tell the person once the local tokens are gone. */
function signedOutLines(
  result: SignOutResult,
  where: string,
  server: AuthServer,
): string[] {
  const deleted = "the local tokens are deleted";
  // What the server answered: "(401 invalid_client: client authentication
  // failed)", or as much of it as it sent.
  const error = result.error;
  const answer = error
    ? [error.status, error.error].filter(Boolean)
      .join(" ") +
      (error.errorDescription ? `: ${error.errorDescription}` : "")
    : "";
  const said = answer ? ` (${answer})` : "";
  switch (result.outcome) {
    case "revoked":
      return [
        `✓ Signed out of ${where}: the server ended the session and ${deleted}.`,
      ];
    case "already_ended":
      return [
        `✓ Signed out: ${deleted} (the session at ${where} had already ended).`,
      ];
    case "public_client_refused":
      return [
        `warning: ${where} does not let a public client revoke its tokens${said}: its revocation endpoint takes only ${
          (server.metadata.revocation_endpoint_auth_methods_supported ?? [])
            .join(", ")
        }. The tokens stay valid there until they expire.`,
        `✓ Signed out here: ${deleted}.`,
      ];
    case "refused":
      return [
        `warning: ${where} refused to end the session${said}. The tokens may stay valid there until they expire.`,
        `✓ Signed out here: ${deleted}.`,
      ];
    default:
      return [
        `✓ Signed out: ${deleted} (${where} offers no revocation; the tokens stay valid there until they expire).`,
      ];
  }
}

/** Why the server could not be asked, in words that say which failure. */
function failureText(err: OAuthError, where: string): string {
  switch (err.code) {
    case "network_error":
      return `could not reach ${where} to end the session (a network failure: the server may be down, or this machine offline)`;
    case "timeout":
      return `${where} did not answer in time to end the session (${err.message})`;
    case "server_error":
      return `${where} failed to end the session: ${err.message}`;
    default:
      return `could not end the session at ${where}: ${err.message}`;
  }
}
