// Private: the signed-in session of a profile, for token, api, status, logout.
import type { AuthServer } from "../core/server.ts";
import { TokenSession } from "../core/session.ts";
import type { FileTokenStore } from "../store/file_store.ts";
import type { Io } from "./_io.ts";
import type { Profile } from "./_config.ts";
import { connectProfile, type ProfileConnection } from "./_server.ts";

export {
  apiTimeout,
  APP_ID,
  debugFetch,
  loadProfile,
  parseTimeout,
  serverFetch,
  serverFor,
} from "./_server.ts";

/** Opens the session of a profile. */
export async function openSession(
  options: { home: string; profile: string; io: Io; store?: FileTokenStore },
): Promise<
  {
    session: TokenSession;
    profile: Profile;
    server: AuthServer;
    store: FileTokenStore;
  }
> {
  const connection = await connectProfile(options);
  const { profile, server, store } = connection;
  return { session: sessionOf(connection, options.io), profile, server, store };
}

/** The session over a profile's connection (what `openSession` builds). */
export function sessionOf(connection: ProfileConnection, io: Io): TokenSession {
  const { profile, server, store, apiUrl, fetch } = connection;
  return new TokenSession({
    server,
    clientId: profile.clientId,
    // Looker repeats the redirect URI on refresh; other servers need none.
    ...(profile.kind === "looker" ? { redirectUri: profile.redirectUri } : {}),
    store,
    fetch,
    now: () => io.now(),
    ...(apiUrl === undefined ? {} : { apiUrl }),
  });
}
