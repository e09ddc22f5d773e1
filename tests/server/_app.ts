/**
 * Test helper: a small app on `Deno.serve` (127.0.0.1) built on the server
 * sign-in helpers, against the Looker emulator, and a cookie-keeping client
 * that follows redirects one at a time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { lookerServer } from "../../src/core/mod.ts";
import {
  type LookerEmulator,
  type LookerEmulatorOptions,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
import {
  type AuthHelpers,
  type AuthHelpersOptions,
  createAuthHelpers,
  MemorySessionStore,
  type SessionStore,
} from "../../src/server/mod.ts";

export const CLIENT_ID = "edge-app-tests";
export const SECRET = "test cookie secret, thirty-two bytes or more";

/** The routes every test app has. */
export function appHandler(
  auth: AuthHelpers,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/signin") return await auth.signIn(request);
    if (pathname === "/callback") return await auth.handleCallback(request);
    if (pathname === "/signout") return await auth.signOut(request);
    const session = await auth.getSession(request);
    if (!session) return Response.json({ signedIn: false });
    const response = await session.fetch("/api/4.0/user");
    const user = await response.json();
    return Response.json({ signedIn: true, status: response.status, user });
  };
}

/** A running app. `await using` stops it and the emulator. */
export interface TestApp extends AsyncDisposable {
  readonly looker: LookerEmulator;
  readonly auth: AuthHelpers;
  readonly store: SessionStore;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  readonly redirectUri: string;
  /** The helpers' options, to build a twin (another clock, another store). */
  readonly options: AuthHelpersOptions;
}

/** Starts the emulator (auto-approving) and the app. */
export async function startApp(
  overrides: Partial<AuthHelpersOptions> = {},
  emulator: LookerEmulatorOptions = {},
): Promise<TestApp> {
  const looker = await startLookerEmulator({ autoApprove: true, ...emulator });
  const ready: { auth?: AuthHelpers } = {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      ready.auth
        ? appHandler(ready.auth)(request)
        : new Response(null, { status: 503 }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const redirectUri = `${base}/callback`;
  looker.registerApp({
    client_guid: CLIENT_ID,
    redirect_uri: redirectUri,
    display_name: "Edge app tests",
    description: "Signs in to test the server helpers.",
    enabled: true,
  });
  const options: AuthHelpersOptions = {
    server: lookerServer({
      lookerUrl: looker.lookerUrl,
      apiUrl: looker.apiUrl,
    }),
    clientId: CLIENT_ID,
    redirectUri,
    cookieSecret: SECRET,
    store: new MemorySessionStore(),
    ...overrides,
  };
  const auth = createAuthHelpers(options);
  ready.auth = auth;
  return {
    looker,
    auth,
    store: options.store,
    base,
    redirectUri,
    options,
    [Symbol.asyncDispose]: async () => {
      await server.shutdown();
      await looker.close();
    },
  };
}

/** A browser's cookie jar, per host, without path scoping. */
export class Client {
  readonly cookies = new Map<string, Map<string, string>>();

  /** One request, no redirect followed; cookies sent and kept. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const jar = this.cookies.get(target.host);
    if (jar?.size) {
      headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const response = await fetch(target, {
      ...init,
      headers,
      redirect: "manual",
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const cookies = this.cookies.get(target.host) ?? new Map();
      if (/;\s*Max-Age=0\b/i.test(line)) cookies.delete(name);
      else cookies.set(name, pair!.slice(eq + 1).trim());
      this.cookies.set(target.host, cookies);
    }
    return response;
  }

  /** The value of a cookie kept for `base`'s host. */
  cookie(base: string, name: string): string | undefined {
    return this.cookies.get(new URL(base).host)?.get(name);
  }

  /** Sets (or with `undefined` removes) a cookie for `base`'s host. */
  setCookie(base: string, name: string, value: string | undefined): void {
    const host = new URL(base).host;
    const jar = this.cookies.get(host) ?? new Map();
    if (value === undefined) jar.delete(name);
    else jar.set(name, value);
    this.cookies.set(host, jar);
  }
}

/** The Location of a redirect, asserting the status. */
export async function redirected(
  response: Response,
  status = 302,
): Promise<URL> {
  await response.body?.cancel();
  assert.equal(response.status, status);
  return new URL(response.headers.get("location")!, response.url);
}

/**
 * Starts a sign-in on the app and follows it to the callback URL (the
 * emulator approves at once), without requesting the callback.
 */
export async function startSignIn(
  client: Client,
  base: string,
  path = "/signin",
): Promise<URL> {
  const auth = await redirected(await client.fetch(`${base}${path}`));
  return await redirected(await client.fetch(auth));
}

/** Signs in through the app: sign-in, Looker, callback. */
export async function signIn(client: Client, base: string): Promise<URL> {
  const callback = await startSignIn(client, base);
  return await redirected(await client.fetch(callback));
}

/** The error code an error page of the helpers shows. */
export async function errorCode(response: Response): Promise<string> {
  const body = await response.text();
  const match = /<code id="code">([^<]*)<\/code>/.exec(body);
  assert.ok(match, `not an error page: ${body.slice(0, 200)}`);
  return match[1]!;
}
