// The Python OAuth sample (../shared/seeds), kept: sign in if needed, refresh
// when expired, print the current user. Configure with environment variables.
//
//   LOOKER_URL=https://example.looker.com LOOKER_API_URL=https://example.looker.com:19999 \
//   deno run --allow-net --allow-read --allow-write --allow-env --allow-run examples/looker_user.ts
// deno-lint-ignore-file no-console
import {
  currentLookerUser,
  FileTokenStore,
  isOAuthError,
  loginWithBrowser,
  lookerServer,
  stateHome,
  TokenSession,
} from "../mod.ts";

const env = (name: string, fallback: string) => Deno.env.get(name) ?? fallback;
const lookerUrl = env("LOOKER_URL", "https://sandbox.looker-devrel.com");
const server = lookerServer({
  lookerUrl,
  apiUrl: env("LOOKER_API_URL", lookerUrl),
});
const clientId = env("LOOKER_CLIENT_ID", "oauth2python");
const redirectUri = env(
  "LOOKER_REDIRECT_URI",
  "http://localhost:8080/callback",
);
const store = new FileTokenStore({
  home: stateHome(),
  profile: "looker-user-example",
});
const session = new TokenSession({ server, clientId, redirectUri, store });

async function signIn(): Promise<void> {
  const onUrl = (url: URL) => console.error(`Sign in at: ${url}`);
  await store.save(
    (await loginWithBrowser({ server, clientId, redirectUri, onUrl })).tokens,
  );
}

if (!(await store.load())) await signIn();
const me = await currentLookerUser(session).catch(async (err) => {
  if (!isOAuthError(err, "login_required")) throw err; // refresh refused: sign in again
  await signIn();
  return await currentLookerUser(session);
});
console.log(
  JSON.stringify(
    { display_name: me.display_name, email: me.email, id: me.id },
    null,
    2,
  ),
);
