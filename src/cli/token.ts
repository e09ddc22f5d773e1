// `looker-oauth token`: the access token alone on stdout.
//
// The hot path of every script: with a valid cached token it reads one file,
// with blocking calls, and prints. Refresh code (oauth4webapi, the session)
// runs only when the token is about to expire. Why it is kept this way:
// docs/architecture.md, "Keeping `token` fast".
import { DEFAULT_REFRESH_MARGIN_MS } from "../core/refresh_margin.ts";
import { parseArgs, str } from "./_args.ts";
import { CliError, EXIT } from "./_errors.ts";
import type { Env, Io } from "./_io.ts";
import { localState, signInHint } from "./_profile.ts";

export const HELP = `Usage: looker-oauth token [--profile NAME]

Prints a valid access token, alone, on stdout, refreshing it first if fewer
than 60 seconds remain. Use it from scripts:

  curl -H "Authorization: Bearer $(looker-oauth token)" "$API/api/4.0/user"

Flags:
  --profile NAME   the profile signed in with 'looker-oauth login' (default:
                   $LOOKER_OAUTH_PROFILE, else "default")

A refresh waits for another process refreshing the same profile, at most
$LOOKER_OAUTH_LOCK_TIMEOUT seconds (default 30), naming it after 2 s.

Exit codes: 0 printed; 3 not signed in, or the refresh was refused (run
'looker-oauth login'); 1 any other failure (including that wait running out).`;

/** What `token` was asked. */
export interface TokenOptions {
  /** `--profile`, if given (else $LOOKER_OAUTH_PROFILE, else "default"). */
  readonly profile: string | undefined;
}

/** Reads `token`'s flags. */
export function parseToken(argv: string[], _env: Env): TokenOptions {
  const args = parseArgs(argv, { string: ["profile"] }, "token");
  return { profile: str(args, "profile") };
}

/** Prints a valid access token, refreshing it first when it is due. */
export async function runToken(
  options: TokenOptions,
  io: Io,
): Promise<number> {
  const { home, profile, store } = localState(io, options.profile);
  const tokens = store.loadSync();
  if (!tokens) {
    throw new CliError(`not signed in (profile "${profile}")`, {
      exitCode: EXIT.signIn,
      hint: signInHint(profile),
    });
  }
  if (tokens.expiresAt - io.now() > DEFAULT_REFRESH_MARGIN_MS) {
    io.out(`${tokens.accessToken}\n`);
    return EXIT.ok;
  }
  io.debug("the access token expires within 60 s; refreshing");
  // Evaluated only for a refresh: the valid-token path never runs the core.
  const { openSession } = await import("./_session.ts");
  const { session } = await openSession({ home, profile, io, store });
  io.out(`${await session.getAccessToken()}\n`);
  return EXIT.ok;
}
