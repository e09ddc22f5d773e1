// The page's script: "Sign in with Looker", then the signed-in person's name,
// then "Sign out". No framework: `deno bundle --platform browser --minify`
// turns this file and the library into the one script index.html loads.
//
// In your own app, import from "@looker-oauth/pkce/browser" instead of the
// relative path, and put your Looker's URLs and client id in the page's
// config (see index.html).
import { BrowserAuth, isOAuthError } from "../../src/browser/mod.ts";

// The few DOM features the page uses, declared here so that the file
// type-checks with Deno's libs as well as the DOM's.
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  onclick: (() => unknown) | null;
}
declare const document: {
  body: PageElement;
  getElementById(id: string): PageElement | null;
};

interface Config {
  lookerUrl: string;
  apiUrl: string;
  clientId: string;
  /** `local` keeps the tokens for every tab of the origin; default `session`. */
  storage?: "session" | "local";
}

const $ = (id: string) => document.getElementById(id)!;
const config: Config = JSON.parse($("config").textContent!);
const auth = new BrowserAuth({
  lookerUrl: config.lookerUrl,
  apiUrl: config.apiUrl,
  clientId: config.clientId,
  storage: config.storage === "local" ? localStorage : sessionStorage,
});

/** Shows one of the page's states: signed-in, signed-out or error. */
function show(state: string, user = ""): void {
  document.body.dataset.state = state;
  $("user").textContent = user;
}

function fail(err: unknown): void {
  const error = $("error");
  error.textContent = isOAuthError(err)
    ? `${err.message}. ${err.hint ?? ""}`
    : String(err);
  error.dataset.code = isOAuthError(err) ? err.code : "";
  show("error");
}

$("sign-in").onclick = () => auth.signIn().catch(fail);
$("sign-out").onclick = () =>
  auth.signOut().then(() => show("signed-out"), fail);

try {
  await auth.handleCallback();
  if (await auth.isSignedIn()) {
    const response = await auth.fetch("/api/4.0/user");
    if (!response.ok) throw new Error(`Looker answered ${response.status}`);
    show("signed-in", (await response.json()).display_name);
  } else {
    show("signed-out");
  }
} catch (err) {
  // A refused refresh means signed out; anything else is worth showing.
  if (isOAuthError(err, "login_required")) show("signed-out");
  else fail(err);
}
