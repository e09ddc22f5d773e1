// deno-lint-ignore-file no-console
/**
 * An edge app that signs its users in with Looker, as a `deno serve` app:
 *
 *   deno task example:edge
 *
 * `/` shows a sign-in link or, once signed in, the person's name from
 * `/api/4.0/user` (in the element with id `user`) and a sign-out button;
 * `/signin`, `/callback`, `/signout` (POST) are the sign-in helpers of
 * `@looker-oauth/pkce/server`. Tokens stay on the server: in memory, or in
 * Deno KV when `KV_PATH` is set, so that several instances share sessions.
 *
 * Configured by the environment:
 *
 * - `LOOKER_URL`, `LOOKER_API_URL`: the Looker UI and API URLs. Unset: the
 *   project's Looker emulator is started too, so the app works at once (any
 *   email and password sign in).
 * - `LOOKER_CLIENT_ID`: the registered OAuth client app (default
 *   `edge-example`, registered on the emulator).
 * - `REDIRECT_URI`: default `http://localhost:$PORT/callback`.
 * - `COOKIE_SECRET`: at least 32 bytes (`openssl rand -base64 32`). Unset, a
 *   random one is used for this run, and only when the redirect URI is on
 *   localhost.
 * - `KV_PATH`: a Deno KV file for sessions; unset keeps them in memory.
 * - `PORT`: the port in the default redirect URI; default the port `deno
 *   serve` listens on: 8000, or another with
 *   `DENO_SERVE_ADDRESS=tcp:127.0.0.1:9000 deno task example:edge`.
 *
 * @module
 */
import { isOAuthError, lookerServer } from "../src/core/mod.ts";
import { startLookerEmulator } from "../src/emulator/looker_emulator.ts";
import {
  type AuthHelpers,
  createAuthHelpers,
  MemorySessionStore,
  type SessionStore,
} from "../src/server/mod.ts";
import { KvSessionStore } from "../src/store/kv_session_store.ts";

const env = (name: string): string | undefined =>
  Deno.env.get(name) || undefined;

async function configure(listenPort: number): Promise<AuthHelpers> {
  const port = env("PORT") ?? String(listenPort);
  const redirectUri = env("REDIRECT_URI") ??
    `http://localhost:${port}/callback`;
  const clientId = env("LOOKER_CLIENT_ID") ?? "edge-example";
  let lookerUrl = env("LOOKER_URL");
  let apiUrl = env("LOOKER_API_URL");
  if (!lookerUrl) {
    const looker = await startLookerEmulator();
    looker.registerApp({
      client_guid: clientId,
      redirect_uri: redirectUri,
      display_name: "Edge example",
      description: "Shows your name, read from the Looker API.",
      enabled: true,
    });
    lookerUrl = looker.lookerUrl;
    apiUrl = looker.apiUrl;
    // deno serve stops its own server on these; the emulator's would keep
    // the process alive.
    const signals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT"]
      : ["SIGINT", "SIGTERM"];
    for (const signal of signals) {
      Deno.addSignalListener(signal, () => {
        looker.close().finally(() => Deno.exit(0));
      });
    }
    console.error(
      `LOOKER_URL is not set: started the Looker emulator at ${lookerUrl} (API ${apiUrl}); any email and password sign in.`,
    );
  }
  let cookieSecret = env("COOKIE_SECRET");
  if (!cookieSecret && isLocalhost(redirectUri)) {
    cookieSecret = crypto.randomUUID() + crypto.randomUUID();
    console.error(
      "COOKIE_SECRET is not set: using a random one for this run (localhost only).",
    );
  }
  const kvPath = env("KV_PATH");
  const store: SessionStore = kvPath
    ? new KvSessionStore({ path: kvPath })
    : new MemorySessionStore();
  const auth = createAuthHelpers({
    server: lookerServer({ lookerUrl, ...(apiUrl ? { apiUrl } : {}) }),
    clientId,
    redirectUri,
    // Missing outside localhost: createAuthHelpers() refuses to start.
    cookieSecret: cookieSecret ?? [],
    store,
  });
  console.error(
    `Sessions ${kvPath ? `in Deno KV at ${kvPath}` : "in memory"}.`,
  );
  console.error(`Open ${new URL("/", redirectUri).href}`);
  return auth;
}

function isLocalhost(uri: string): boolean {
  const { hostname } = new URL(uri);
  return hostname === "localhost" || hostname === "[::1]" ||
    /^127(?:\.\d+){3}$/.test(hostname);
}

let ready: Promise<AuthHelpers> | undefined;

async function home(auth: AuthHelpers, request: Request): Promise<Response> {
  const session = await auth.getSession(request);
  if (session) {
    try {
      const response = await session.fetch("/api/4.0/user");
      if (response.ok) {
        const user = await response.json();
        return page(
          `<p>Signed in as <strong id="user">${
            escape(String(user.display_name ?? user.email ?? user.id))
          }</strong>.</p>
<form method="post" action="/signout"><button id="signout" type="submit">Sign out</button></form>`,
        );
      }
      await response.body?.cancel();
      return page(
        `<p id="problem">Looker answered ${response.status}.</p>`,
        502,
      );
    } catch (err) {
      // The sign-in ended on Looker's side: show the signed-out page.
      if (!isOAuthError(err, "login_required")) throw err;
    }
  }
  return page(
    `<p id="signed-out">You are not signed in.</p>
<p><a id="signin" href="/signin">Sign in with Looker</a></p>`,
  );
}

function page(body: string, status = 200): Response {
  return new Response(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Edge example</title></head>
<body><h1>Edge example</h1>
${body}
</body></html>
`,
    {
      status,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; form-action 'self'",
      },
    },
  );
}

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&#${c.charCodeAt(0)};`,
  );
}

export default {
  onListen(addr: Deno.Addr): void {
    ready = configure("port" in addr ? addr.port : 8000);
    ready.catch((err) => {
      console.error(
        `edge example: ${err.code ? `[${err.code}] ` : ""}${err.message}${
          err.hint ? `\nhint: ${err.hint}` : ""
        }`,
      );
      Deno.exit(1);
    });
  },
  async fetch(request: Request): Promise<Response> {
    if (!ready) return new Response("starting", { status: 503 });
    const auth = await ready;
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/":
        return await home(auth, request);
      case "/signin":
        return await auth.signIn(request);
      case "/callback":
        return await auth.handleCallback(request);
      case "/signout":
        return await auth.signOut(request);
      default:
        return new Response("Not found", { status: 404 });
    }
  },
} satisfies Deno.ServeDefaultExport;
