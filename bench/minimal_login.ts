// deno-lint-ignore-file no-console
// The smallest honest loopback sign-in to Looker, written directly on
// oauth4webapi: the yardstick for `looker-oauth login` in bench/run.ts.
//
//   deno run <perms> bench/minimal_login.ts LOOKER_URL API_URL CLIENT_ID REDIRECT_URI OUT_FILE
//
// What it does, and nothing more: listen on the redirect URI's port, build
// the authorization URL (S256 PKCE, state), print it on stderr and open
// $BROWSER with it, take the first request to the redirect path, validate it,
// exchange the code, write the tokens to OUT_FILE (0600), exit. No discovery,
// no profile, no user lookup, no lock, no timeout, no Ctrl-C handling.
import * as oauth from "oauth4webapi";

const [lookerUrl, apiUrl, clientId, redirectUri, outFile] = Deno.args;
if (!lookerUrl || !apiUrl || !clientId || !redirectUri || !outFile) {
  console.error(
    "usage: minimal_login.ts LOOKER_URL API_URL CLIENT_ID REDIRECT_URI OUT_FILE",
  );
  Deno.exit(2);
}

const as: oauth.AuthorizationServer = {
  issuer: lookerUrl,
  authorization_endpoint: `${lookerUrl}/auth`,
  token_endpoint: `${apiUrl}/api/token`,
};
const client: oauth.Client = { client_id: clientId };
const redirect = new URL(redirectUri);

const codeVerifier = oauth.generateRandomCodeVerifier();
const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
const state = oauth.generateRandomState();

const callback = Promise.withResolvers<URL>();
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(redirect.port),
  onListen: () => {},
}, (request) => {
  const url = new URL(request.url);
  if (url.pathname !== redirect.pathname) {
    return new Response("Not found", { status: 404 });
  }
  callback.resolve(url);
  return new Response("Signed in. You can close this tab.");
});

const url = new URL(as.authorization_endpoint!);
url.searchParams.set("response_type", "code");
url.searchParams.set("client_id", clientId);
url.searchParams.set("redirect_uri", redirectUri);
url.searchParams.set("scope", "cors_api");
url.searchParams.set("state", state);
url.searchParams.set("code_challenge", codeChallenge);
url.searchParams.set("code_challenge_method", "S256");
console.error(`Open this URL to sign in:\n\n  ${url.href}\n`);
const browser = Deno.env.get("BROWSER");
if (browser) {
  new Deno.Command(browser, {
    args: [url.href],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn().unref();
}

const params = oauth.validateAuthResponse(
  as,
  client,
  await callback.promise,
  state,
);
const response = await oauth.authorizationCodeGrantRequest(
  as,
  client,
  oauth.None(),
  params,
  redirectUri,
  codeVerifier,
  { [oauth.allowInsecureRequests]: apiUrl.startsWith("http:") },
);
const tokens = await oauth.processAuthorizationCodeResponse(
  as,
  client,
  response,
);
await Deno.writeTextFile(outFile, JSON.stringify(tokens), { mode: 0o600 });
await server.shutdown();
console.error("Signed in.");
