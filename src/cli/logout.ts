// `looker-oauth logout`: end the session on the server, forget the tokens.
import { OAuthError } from "../core/errors.ts";
import { parseArgs, str } from "./_args.ts";
import { readConfig } from "./_config.ts";
import { localState } from "./_profile.ts";
import { EXIT } from "./_errors.ts";
import type { Io } from "./_io.ts";
import { openSession } from "./_session.ts";

export const HELP = `Usage: looker-oauth logout [--profile NAME]

Ends the session on the server (Looker: DELETE /api/4.0/logout, which also
kills the refresh token; others: RFC 7009 revocation when offered), then
deletes the local tokens. The profile's settings are kept, so
'looker-oauth login' needs no flags next time.

Flags:
  --profile NAME   the profile (default: $LOOKER_OAUTH_PROFILE, else "default")
  --local          only delete the local tokens; do not contact the server`;

export async function run(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(
    argv,
    { string: ["profile"], boolean: ["local"] },
    "logout",
  );
  const { home, profile: name, store } = localState(io, str(args, "profile"));
  const config = await readConfig(home, io.err);
  if (!(await store.load())) {
    io.err(`Not signed in (profile "${name}"); nothing to do.`);
    return EXIT.ok;
  }
  if (args.flags.local || !config.profiles[name]) {
    await store.clear();
    io.err(
      `Deleted the local tokens of profile "${name}" (the server was not contacted).`,
    );
    return EXIT.ok;
  }
  const { session, profile } = await openSession({
    home,
    profile: name,
    io,
    store,
  });
  const where = profile.lookerUrl ?? profile.issuer;
  try {
    const revoked = await session.signOut();
    io.err(
      revoked
        ? `✓ Signed out of ${where}: the server ended the session and the local tokens are deleted.`
        : `✓ Signed out: the local tokens are deleted (${where} offers no revocation, or the session had already ended).`,
    );
    return EXIT.ok;
  } catch (err) {
    if (err instanceof OAuthError) {
      io.err(
        `looker-oauth: could not reach ${where} to end the session: ${err.message}. The local tokens are kept.`,
      );
      io.err(
        "hint: try again, or run 'looker-oauth logout --local' to only delete them here",
      );
      return EXIT.failure;
    }
    throw err;
  }
}
