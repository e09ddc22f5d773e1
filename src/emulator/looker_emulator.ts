/**
 * A Looker instance emulated in-process on loopback: the UI host (`/auth`,
 * sign-in and consent pages) and the API host (`/api/token`, `/api/versions`,
 * a few `/api/4.0` endpoints) on two different ports, behaving as Looker is
 * documented to. `looker-oauth demo` and the test suite run against it.
 *
 * It is an independent implementation of the server side: it shares no code
 * with the client core (PKCE is checked here with Web Crypto), so a client
 * bug is not mirrored by the server.
 *
 * @example
 * ```ts ignore
 * import { startLookerEmulator } from "./looker_emulator.ts";
 *
 * await using looker = await startLookerEmulator({
 *   apps: [{
 *     client_guid: "cli",
 *     redirect_uri: "http://localhost:8080/callback",
 *     display_name: "CLI",
 *     description: "Signs in from the terminal",
 *     enabled: true,
 *   }],
 * });
 * console.log(looker.lookerUrl, looker.apiUrl);
 * ```
 *
 * @module
 */
import {
  consentPage,
  type Detail,
  errorPage,
  html,
  loginPage,
} from "./_pages.ts";
import {
  apiError,
  apiNotFound,
  cookiesOf,
  DOCS_URL,
  json,
  type Params,
  randomAlnum,
  randomToken,
  readJsonObject,
  readParams,
  s256,
  S256_CHALLENGE,
  sameString,
  tokenError,
  VERIFIER,
  withParams,
} from "./_util.ts";

/**
 * An OAuth client app as Looker's `register_oauth_client_app` stores it.
 *
 * @example
 * ```ts
 * import type { OAuthClientApp } from "./looker_emulator.ts";
 *
 * const app: OAuthClientApp = {
 *   client_guid: "oauth2python",
 *   redirect_uri: "http://localhost:8080/callback",
 *   display_name: "OAuth2 Python",
 *   description: "OAuth2 Python",
 *   enabled: true,
 * };
 * ```
 */
export interface OAuthClientApp {
  /** The client id the app signs in with. */
  client_guid: string;
  /** The one redirect URI accepted, compared character for character. */
  redirect_uri: string;
  /** The name shown on the consent page. */
  display_name: string;
  /** The text shown on the consent page. */
  description: string;
  /** A disabled app cannot sign in or get tokens. */
  enabled: boolean;
  /** The group whose members may use the app; `null` for everyone. */
  group_id?: string | null;
}

/** The person signed in to the emulator, as `GET /api/4.0/user` returns them. */
export interface EmulatorUser {
  /** Looker user id. */
  id: string;
  /** Given name. */
  first_name: string;
  /** Family name. */
  last_name: string;
  /** Full name for display. */
  display_name: string;
  /** Email address. */
  email: string;
}

/**
 * Options for {@linkcode startLookerEmulator}.
 *
 * @example A Looker that does not rotate refresh tokens
 * ```ts ignore
 * import { startLookerEmulator } from "./looker_emulator.ts";
 *
 * await using looker = await startLookerEmulator({
 *   rotateRefreshTokens: false,
 *   accessTokenTtl: 60,
 * });
 * ```
 */
export interface LookerEmulatorOptions {
  /** Client apps registered from the start. */
  apps?: OAuthClientApp[];
  /** The user; default {@linkcode DEFAULT_EMULATOR_USER} (Ada Lovelace). */
  user?: EmulatorUser;
  /**
   * Issue a new refresh token on every refresh, retiring the old one.
   * Default `true`. When `false`, refresh answers omit `refresh_token` and
   * the old one keeps working.
   */
  rotateRefreshTokens?: boolean;
  /**
   * When a retired (rotated) refresh token is used again, also revoke the
   * whole grant: every access and refresh token issued from that sign-in.
   * Default `true`. Either way the reuse gets `invalid_grant`.
   */
  revokeGrantOnRefreshReuse?: boolean;
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number;
  /** Authorization code lifetime in seconds. Default 60. */
  codeTtl?: number;
  /**
   * Skip the sign-in and consent pages, as for a person already signed in to
   * Looker who already accepted the app. Default `false`.
   */
  autoApprove?: boolean;
  /**
   * The API3 key accepted by `POST /api/4.0/login`. Default: a fresh random
   * key, readable from {@linkcode LookerEmulator.apiCredentials}.
   */
  apiCredentials?: { clientId: string; clientSecret: string };
  /**
   * Origins in the "embedded domain allowlist": API host responses to them
   * carry CORS headers, and their preflights are answered.
   */
  allowedOrigins?: string[];
  /** The clock, in epoch ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * Live counters of what the emulator was asked.
 *
 * @example
 * ```ts ignore
 * await session.getAccessToken();
 * console.log(looker.stats.refreshes); // 1
 * ```
 */
export interface EmulatorStats {
  /** Authorization codes issued (redirects back to the app with a code). */
  readonly authorizations: number;
  /** `authorization_code` grant requests, successful or not. */
  readonly codeExchanges: number;
  /** `refresh_token` grant requests, successful or not. */
  readonly refreshes: number;
  /** Uses of an already rotated refresh token that were detected. */
  readonly refreshReuses: number;
  /** Successful `DELETE /api/4.0/logout` calls. */
  readonly logouts: number;
  /** Every `POST /api/token` on the API host, whatever its outcome. */
  readonly tokenRequests: number;
  /**
   * Every other request to the API host (`/api/versions`, `/api/4.0/*`,
   * unknown paths), CORS preflights excepted.
   */
  readonly apiCalls: number;
}

/**
 * A running emulator. Close it, or `await using` it.
 *
 * @example Simulate a refresh answer lost after the server rotated
 * ```ts ignore
 * import { startLookerEmulator } from "./looker_emulator.ts";
 *
 * await using looker = await startLookerEmulator({ autoApprove: true });
 * looker.tokenResponseFilter = async (response, grantType) => {
 *   if (grantType !== "refresh_token") return response;
 *   await response.body?.cancel();
 *   return new Response("Bad gateway", { status: 502 });
 * };
 * ```
 */
export interface LookerEmulator extends AsyncDisposable {
  /** The UI host, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly lookerUrl: string;
  /** The API host, on another port (no trailing slash). */
  readonly apiUrl: string;
  /** The API3 key accepted by `POST /api/4.0/login`. */
  readonly apiCredentials: { clientId: string; clientSecret: string };
  /** Live counters. */
  readonly stats: EmulatorStats;
  /** Whether refreshes rotate the refresh token; can be switched any time. */
  rotateRefreshTokens: boolean;
  /**
   * Test hook: replaces or alters what `POST /api/token` sends (a 500, HTML,
   * a slow drip, a response lost after rotating). It runs last, after the
   * emulator has made its state changes, with the request's `grant_type`
   * (`""` when the body could not be read).
   */
  tokenResponseFilter:
    | ((response: Response, grantType: string) => Response | Promise<Response>)
    | undefined;
  /**
   * Registers a client app, or replaces the one with the same `client_guid`.
   *
   * @param app The app.
   * @throws {TypeError} For an empty `client_guid` or a `redirect_uri` that
   *   is not an absolute URL without fragment.
   */
  registerApp(app: OAuthClientApp): void;
  /** Makes every access token issued so far expired: using one gets a 401. */
  expireAccessTokens(): void;
  /**
   * Stops both servers and frees their ports. Idempotent.
   *
   * @returns When both servers have stopped.
   */
  close(): Promise<void>;
}

/**
 * The user the emulator signs in when none is given.
 *
 * @example
 * ```ts
 * import { DEFAULT_EMULATOR_USER } from "./looker_emulator.ts";
 *
 * console.log(DEFAULT_EMULATOR_USER.email); // ada@example.com
 * ```
 */
export const DEFAULT_EMULATOR_USER: Readonly<EmulatorUser> = Object.freeze({
  id: "1",
  first_name: "Ada",
  last_name: "Lovelace",
  display_name: "Ada Lovelace",
  email: "ada@example.com",
});

/**
 * Starts a Looker emulator: two HTTP servers on 127.0.0.1, ports chosen by
 * the system.
 *
 * UI host (`lookerUrl`): `GET /auth` (authorization endpoint), the sign-in
 * page (`/login`, any email and password are accepted) and the consent page
 * (`/auth/consent`). Answers to the app are Looker-shaped:
 * `redirect_uri?&code=...&state=...`, or `?error=access_denied&state=...`.
 * An unknown client or a redirect URI that differs from the registered one
 * gets an error page and no redirect.
 *
 * API host (`apiUrl`): `POST /api/token` (public client, form or JSON body,
 * Basic authentication refused with "Failed Basic Authentication",
 * single-use codes, S256 PKCE, refresh with or without rotation and reuse
 * detection), `GET /api/versions`, `POST /api/4.0/login` (API3 key),
 * `GET /api/4.0/user`, `DELETE /api/4.0/logout`, and
 * `/api/4.0/oauth_client_apps[/{client_guid}]` (list, register, get, update,
 * delete). A bad token on any `/api/4.0` endpoint gets
 * `401 {"message":"Requires authentication."}`.
 *
 * @param options Apps, user, token behaviour, clock.
 * @returns The running emulator.
 * @throws {TypeError} For an invalid app, or a TTL that is not a positive
 *   number.
 * @throws {Deno.errors.PermissionDenied} Without network permission for
 *   127.0.0.1.
 *
 * @example Sign in with the scripted browser
 * ```ts ignore
 * import { startLookerEmulator } from "./looker_emulator.ts";
 * import { browse } from "./user_agent.ts";
 *
 * await using looker = await startLookerEmulator({ autoApprove: true });
 * looker.registerApp({
 *   client_guid: "demo",
 *   redirect_uri: "http://127.0.0.1:8080/callback",
 *   display_name: "Demo",
 *   description: "Reads your user",
 *   enabled: true,
 * });
 * const versions = await fetch(`${looker.apiUrl}/api/versions`);
 * console.log((await versions.json()).web_server_url === looker.lookerUrl);
 * ```
 */
export async function startLookerEmulator(
  options: LookerEmulatorOptions = {},
): Promise<LookerEmulator> {
  const emulator = new Emulator(options);
  await emulator.listen();
  return emulator;
}

// ---------------------------------------------------------------------------

const SESSION_COOKIE = "looker_emulator_session";
const PENDING_TTL_MS = 10 * 60_000;
const REFRESH_TTL_MS = 30 * 24 * 3600_000;

interface Session {
  id: string;
  csrf: string;
  signedIn: boolean;
  consented: Set<string>;
}

/** An authorization request waiting for sign-in or consent. */
interface Pending {
  id: string;
  sessionId: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  challenge: string;
  expiresAt: number;
}

/** One sign-in's tokens: revoking it kills all of them. */
interface Grant {
  clientId: string;
  revoked: boolean;
}

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
  used: boolean;
  grant: Grant | undefined;
}

interface AccessRecord {
  /** `undefined` for API3 login tokens. */
  grant: Grant | undefined;
  expiresAt: number;
  expired: boolean;
  revoked: boolean;
}

interface RefreshRecord {
  grant: Grant;
  status: "active" | "rotated";
  expiresAt: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Emulator implements LookerEmulator {
  lookerUrl = "";
  apiUrl = "";
  readonly apiCredentials: { clientId: string; clientSecret: string };
  readonly stats: Mutable<EmulatorStats> = {
    authorizations: 0,
    codeExchanges: 0,
    refreshes: 0,
    refreshReuses: 0,
    logouts: 0,
    tokenRequests: 0,
    apiCalls: 0,
  };
  rotateRefreshTokens: boolean;
  tokenResponseFilter:
    | ((response: Response, grantType: string) => Response | Promise<Response>)
    | undefined = undefined;

  readonly #apps = new Map<string, OAuthClientApp>();
  readonly #user: EmulatorUser;
  readonly #revokeOnReuse: boolean;
  readonly #accessTtl: number;
  readonly #codeTtl: number;
  readonly #autoApprove: boolean;
  readonly #origins: Set<string>;
  readonly #now: () => number;

  readonly #sessions = new Map<string, Session>();
  readonly #pending = new Map<string, Pending>();
  readonly #codes = new Map<string, CodeRecord>();
  readonly #grants = new Set<Grant>();
  readonly #access = new Map<string, AccessRecord>();
  readonly #refresh = new Map<string, RefreshRecord>();

  #servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: LookerEmulatorOptions) {
    this.#user = { ...(options.user ?? DEFAULT_EMULATOR_USER) };
    this.rotateRefreshTokens = options.rotateRefreshTokens ?? true;
    this.#revokeOnReuse = options.revokeGrantOnRefreshReuse ?? true;
    this.#accessTtl = seconds(options.accessTokenTtl, 3600, "accessTokenTtl");
    this.#codeTtl = seconds(options.codeTtl, 60, "codeTtl");
    this.#autoApprove = options.autoApprove ?? false;
    this.#origins = new Set(options.allowedOrigins ?? []);
    this.#now = options.now ?? Date.now;
    this.apiCredentials = options.apiCredentials
      ? { ...options.apiCredentials }
      : { clientId: randomAlnum(20), clientSecret: randomAlnum(24) };
    for (const app of options.apps ?? []) this.registerApp(app);
  }

  async listen(): Promise<void> {
    const start = (
      handler: (request: Request) => Promise<Response>,
      onError: () => Response,
    ) =>
      Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        onListen: () => {},
        onError,
      }, handler);
    const ui = start(
      (request) => this.#ui(request),
      () => html(500, errorPage("Server error", "The emulator failed.")),
    );
    this.#servers.push(ui);
    try {
      const api = start(
        (request) => this.#api(request),
        () => apiError(500, "Internal server error"),
      );
      this.#servers.push(api);
      this.lookerUrl = `http://127.0.0.1:${ui.addr.port}`;
      this.apiUrl = `http://127.0.0.1:${api.addr.port}`;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  registerApp(app: OAuthClientApp): void {
    if (typeof app?.client_guid !== "string" || app.client_guid === "") {
      throw new TypeError("an OAuth client app needs a client_guid");
    }
    const problem = redirectUriProblem(app.redirect_uri);
    if (problem) throw new TypeError(problem);
    this.#apps.set(app.client_guid, {
      client_guid: app.client_guid,
      redirect_uri: app.redirect_uri,
      display_name: String(app.display_name ?? app.client_guid),
      description: String(app.description ?? ""),
      enabled: app.enabled !== false,
      group_id: app.group_id ?? null,
    });
  }

  expireAccessTokens(): void {
    for (const record of this.#access.values()) record.expired = true;
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all(
      this.#servers.map((server) => server.shutdown()),
    ).then(() => {});
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------- UI host --

  async #ui(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    if (path === "/auth" && method === "GET") {
      return this.#authorize(request, url);
    }
    if (path === "/login" && method === "GET") {
      return this.#loginForm(request, url);
    }
    if (path === "/login" && method === "POST") {
      return await this.#login(request);
    }
    if (path === "/auth/consent" && method === "GET") {
      return this.#consentForm(request, url);
    }
    if (path === "/auth/consent" && method === "POST") {
      return await this.#consent(request);
    }
    if (path === "/api" || path.startsWith("/api/")) return apiNotFound();
    return html(
      404,
      errorPage(
        "Page not found",
        "This Looker emulator serves only the sign-in pages of the OAuth flow.",
        [{ label: "Path", value: path }],
        "Sign-in starts at /auth, where an app sends you. The API, /api/token included, is on the API host.",
      ),
    );
  }

  /** `GET /auth`: validate, then sign-in, consent, or straight back. */
  #authorize(request: Request, url: URL): Response {
    const query = url.searchParams;
    const single = (name: string): string | undefined | null => {
      const all = query.getAll(name);
      return all.length === 0 ? undefined : all.length === 1 ? all[0]! : null;
    };
    const clientId = single("client_id");
    if (clientId === undefined || clientId === "" || clientId === null) {
      return badAuthRequest(
        "No client_id",
        clientId === null
          ? "The request repeats client_id; send it once."
          : "The request does not say which app is signing in: client_id is missing.",
      );
    }
    const app = this.#apps.get(clientId);
    if (!app) {
      return badAuthRequest(
        "Unknown app",
        "No OAuth client app is registered with this client_id.",
        [{ label: "client_id", value: clientId }],
        "Register it first with register_oauth_client_app (POST /api/4.0/oauth_client_apps/{client_guid}), or check the client id.",
      );
    }
    if (!app.enabled) {
      return badAuthRequest(
        "App disabled",
        "The OAuth client app is registered but disabled.",
        [{ label: "client_id", value: clientId }],
        "Enable it with update_oauth_client_app (PATCH /api/4.0/oauth_client_apps/{client_guid}).",
      );
    }
    const redirectUri = single("redirect_uri");
    if (redirectUri === undefined || redirectUri === null) {
      return badAuthRequest(
        "No redirect_uri",
        redirectUri === null
          ? "The request repeats redirect_uri; send it once."
          : "The request does not say where to send the answer: redirect_uri is missing.",
        [{ label: "Registered redirect_uri", value: app.redirect_uri }],
      );
    }
    if (redirectUri !== app.redirect_uri) {
      return badAuthRequest(
        "redirect_uri mismatch",
        "The redirect_uri does not match the one registered for this app. It must be equal character for character: scheme, host, port and path.",
        [
          { label: "Requested redirect_uri", value: redirectUri },
          { label: "Registered redirect_uri", value: app.redirect_uri },
        ],
        "You are not being redirected, because the requested address is not trusted.",
      );
    }

    // From here on, errors go back to the (verified) redirect URI.
    const stateValues = query.getAll("state");
    const state = stateValues.length === 1 ? stateValues[0] : undefined;
    const refuse = (description: string): Response =>
      redirect(
        withParams(redirectUri, {
          error: "invalid_request",
          error_description: description,
          state,
        }, false),
      );
    for (const name of new Set(query.keys())) {
      if (query.getAll(name).length > 1) {
        return refuse(`the parameter ${name} is repeated`);
      }
    }
    const responseType = single("response_type");
    if (responseType !== "code") {
      return refuse("response_type must be code");
    }
    const challenge = single("code_challenge");
    if (!challenge) return refuse("code_challenge is required (PKCE)");
    if (single("code_challenge_method") !== "S256") {
      return refuse("code_challenge_method must be S256");
    }
    if (!S256_CHALLENGE.test(challenge)) {
      return refuse("code_challenge is not a base64url SHA-256 hash");
    }

    const fields = { clientId, redirectUri, state, challenge };
    if (this.#autoApprove) return this.#grantCode(fields);
    const { session, cookie } = this.#sessionFor(request);
    if (session.signedIn && session.consented.has(clientId)) {
      return this.#grantCode(fields, cookie);
    }
    const pending: Pending = {
      id: randomToken(16),
      sessionId: session.id,
      expiresAt: this.#now() + PENDING_TTL_MS,
      ...fields,
    };
    this.#pending.set(pending.id, pending);
    const next = session.signedIn ? "/auth/consent" : "/login";
    return redirect(
      `${next}?request=${encodeURIComponent(pending.id)}`,
      cookie,
    );
  }

  /** `GET /login?request=...`. */
  #loginForm(request: Request, url: URL): Response {
    const found = this.#findPending(request, url.searchParams.get("request"));
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (session.signedIn) {
      return redirect(
        `/auth/consent?request=${encodeURIComponent(pending.id)}`,
      );
    }
    return html(200, this.#loginPage(session, pending));
  }

  /** `POST /login`: any email and password; Cancel declines. */
  async #login(request: Request): Promise<Response> {
    const form = await readForm(request);
    const found = this.#findPending(request, form.get("request"), form);
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (form.get("decision") === "deny") return this.#decline(pending);
    const email = (form.get("email") ?? "").trim();
    const password = form.get("password") ?? "";
    if (email === "" || password === "") {
      return html(
        400,
        this.#loginPage(session, pending, "Enter an email and a password."),
      );
    }
    // A new session id at sign-in, so a planted cookie is worth nothing.
    this.#sessions.delete(session.id);
    const old = session.id;
    session.id = randomToken();
    session.csrf = randomToken();
    session.signedIn = true;
    this.#sessions.set(session.id, session);
    for (const other of this.#pending.values()) {
      if (other.sessionId === old) other.sessionId = session.id;
    }
    const cookie = sessionCookie(session.id);
    if (session.consented.has(pending.clientId)) {
      return this.#finish(pending, cookie);
    }
    return redirect(
      `/auth/consent?request=${encodeURIComponent(pending.id)}`,
      cookie,
    );
  }

  /** `GET /auth/consent?request=...`. */
  #consentForm(request: Request, url: URL): Response {
    const found = this.#findPending(request, url.searchParams.get("request"));
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (!session.signedIn) {
      return redirect(`/login?request=${encodeURIComponent(pending.id)}`);
    }
    const app = this.#apps.get(pending.clientId);
    if (!app) return this.#appGone(pending);
    return html(
      200,
      consentPage({
        appName: app.display_name || app.client_guid,
        description: app.description,
        userName: this.#user.display_name,
        userEmail: this.#user.email,
        redirectUri: pending.redirectUri,
        csrf: session.csrf,
        request: pending.id,
      }),
    );
  }

  /** `POST /auth/consent`: Allow or Deny. */
  async #consent(request: Request): Promise<Response> {
    const form = await readForm(request);
    const found = this.#findPending(request, form.get("request"), form);
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (!session.signedIn) {
      return redirect(`/login?request=${encodeURIComponent(pending.id)}`);
    }
    const decision = form.get("decision");
    if (decision === "deny") return this.#decline(pending);
    if (decision !== "allow") {
      return badAuthRequest(
        "No decision",
        "Choose Allow or Deny on the consent page.",
      );
    }
    session.consented.add(pending.clientId);
    return this.#finish(pending);
  }

  #loginPage(session: Session, pending: Pending, error?: string): string {
    const app = this.#apps.get(pending.clientId);
    return loginPage({
      appName: app?.display_name || pending.clientId,
      email: this.#user.email,
      csrf: session.csrf,
      request: pending.id,
      ...(error === undefined ? {} : { error }),
    });
  }

  /**
   * Finds the session (by cookie) and its pending request, checking the CSRF
   * token of a form post. Any failure is an error page.
   */
  #findPending(
    request: Request,
    id: string | null | undefined,
    form?: URLSearchParams,
  ): { session: Session; pending: Pending } | Response {
    const sessionId = cookiesOf(request).get(SESSION_COOKIE);
    const session = sessionId ? this.#sessions.get(sessionId) : undefined;
    if (!session) {
      return badAuthRequest(
        "Session expired",
        "This browser has no Looker session: cookies may be blocked, or the emulator was restarted.",
        [],
        "Start the sign-in again from the app.",
      );
    }
    if (form && !sameString(form.get("csrf_token") ?? "", session.csrf)) {
      return html(
        403,
        errorPage(
          "Request refused",
          "The form did not come from this browser's sign-in page (bad CSRF token).",
          [],
          "Start the sign-in again from the app.",
        ),
      );
    }
    const pending = id ? this.#pending.get(id) : undefined;
    if (
      !pending || pending.sessionId !== session.id ||
      pending.expiresAt <= this.#now()
    ) {
      if (pending && pending.expiresAt <= this.#now()) {
        this.#pending.delete(pending.id);
      }
      return badAuthRequest(
        "Sign-in expired",
        "This sign-in request is unknown, finished, expired, or belongs to another browser.",
        [],
        "Start the sign-in again from the app.",
      );
    }
    return { session, pending };
  }

  /** Sends the person back with a code, if the app still allows it. */
  #finish(pending: Pending, cookie?: string): Response {
    this.#pending.delete(pending.id);
    const app = this.#apps.get(pending.clientId);
    if (!app || !app.enabled || app.redirect_uri !== pending.redirectUri) {
      return this.#appGone(pending);
    }
    return this.#grantCode(pending, cookie);
  }

  #decline(pending: Pending): Response {
    this.#pending.delete(pending.id);
    return redirect(
      withParams(pending.redirectUri, {
        error: "access_denied",
        state: pending.state,
      }, false),
    );
  }

  #appGone(pending: Pending): Response {
    this.#pending.delete(pending.id);
    return badAuthRequest(
      "App changed",
      "The OAuth client app was removed, disabled or changed during the sign-in.",
      [{ label: "client_id", value: pending.clientId }],
      "Start the sign-in again from the app.",
    );
  }

  #grantCode(
    request: {
      clientId: string;
      redirectUri: string;
      state: string | undefined;
      challenge: string;
    },
    cookie?: string,
  ): Response {
    const code = randomToken();
    this.#codes.set(code, {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      challenge: request.challenge,
      expiresAt: this.#now() + this.#codeTtl * 1000,
      used: false,
      grant: undefined,
    });
    this.stats.authorizations++;
    return redirect(
      withParams(request.redirectUri, { code, state: request.state }, true),
      cookie,
    );
  }

  #sessionFor(request: Request): { session: Session; cookie?: string } {
    const id = cookiesOf(request).get(SESSION_COOKIE);
    const existing = id ? this.#sessions.get(id) : undefined;
    if (existing) return { session: existing };
    const session: Session = {
      id: randomToken(),
      csrf: randomToken(),
      signedIn: false,
      consented: new Set(),
    };
    this.#sessions.set(session.id, session);
    return { session, cookie: sessionCookie(session.id) };
  }

  // ------------------------------------------------------------ API host --

  async #api(request: Request): Promise<Response> {
    const origin = request.headers.get("origin");
    const allowed = origin !== null && this.#origins.has(origin)
      ? origin
      : undefined;
    if (request.method === "OPTIONS") {
      if (!allowed) return apiError(403, "Origin not allowed");
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": allowed,
          "access-control-allow-methods":
            "GET, POST, PUT, PATCH, DELETE, OPTIONS",
          "access-control-allow-headers":
            "authorization, content-type, x-looker-appid",
          "access-control-max-age": "600",
          vary: "Origin",
        },
      });
    }
    const response = await this.#apiRoute(request);
    return allowed ? withCors(response, allowed) : response;
  }

  async #apiRoute(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    if (path === "/api/token" && method === "POST") {
      return await this.#token(request);
    }
    this.stats.apiCalls++;
    if (path === "/api/versions" && method === "GET") return this.#versions();
    if (!path.startsWith("/api/4.0/")) return apiNotFound();
    const route = path.slice("/api/4.0/".length);
    if (route === "login" && method === "POST") {
      return await this.#apiLogin(request, url);
    }
    const token = this.#authenticate(request);
    if (!token) {
      return apiError(401, "Requires authentication.");
    }
    if (route === "user" && method === "GET") {
      return this.#me(url);
    }
    if (route === "logout" && method === "DELETE") {
      return this.#logout(token);
    }
    if (route === "oauth_client_apps" && method === "GET") {
      return json(200, [...this.#apps.values()]);
    }
    const app = /^oauth_client_apps\/([^/]+)$/.exec(route);
    if (app) {
      let guid: string;
      try {
        guid = decodeURIComponent(app[1]!);
      } catch {
        return apiNotFound();
      }
      return await this.#oauthClientApp(request, method, guid);
    }
    return apiNotFound();
  }

  #versions(): Response {
    const version = (v: string, full: string, status: string) => ({
      version: v,
      full_version: full,
      status,
      swagger_url: `${this.apiUrl}/api/${v}/swagger.json`,
    });
    const current = version("4.0", "4.0.25.0", "current");
    return json(200, {
      looker_release_version: "25.0.0",
      current_version: current,
      supported_versions: [version("3.1", "3.1.0", "legacy"), current],
      api_server_url: this.apiUrl,
      web_server_url: this.lookerUrl,
    });
  }

  /** The valid access token a request carries, if any. */
  #authenticate(request: Request): string | undefined {
    const header = request.headers.get("authorization") ?? "";
    const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
    if (!match) return undefined;
    const token = match[1]!;
    const record = this.#access.get(token);
    if (
      !record || record.revoked || record.expired ||
      record.expiresAt <= this.#now() || record.grant?.revoked
    ) {
      return undefined;
    }
    return token;
  }

  #me(url: URL): Response {
    const wanted = url.searchParams.get("fields");
    const user: Record<string, unknown> = { ...this.#user };
    if (!wanted) return json(200, user);
    const picked: Record<string, unknown> = {};
    for (const name of wanted.split(",").map((f) => f.trim())) {
      if (name in user) picked[name] = user[name];
    }
    return json(200, picked);
  }

  #logout(token: string): Response {
    const record = this.#access.get(token)!;
    record.revoked = true;
    if (record.grant) record.grant.revoked = true;
    this.stats.logouts++;
    return new Response(null, { status: 204 });
  }

  /** `POST /api/4.0/login`: an API3 key for a token, 404 when wrong. */
  async #apiLogin(request: Request, url: URL): Promise<Response> {
    const body = await readParams(request);
    const values = body.ok ? body.values : new Map<string, string>();
    const clientId = values.get("client_id") ??
      url.searchParams.get("client_id") ?? "";
    const secret = values.get("client_secret") ??
      url.searchParams.get("client_secret") ?? "";
    const expected = this.apiCredentials;
    const idOk = sameString(clientId, expected.clientId);
    const secretOk = sameString(secret, expected.clientSecret);
    if (!idOk || !secretOk) return apiNotFound();
    const token = this.#issueAccessToken(undefined);
    return json(200, {
      access_token: token,
      token_type: "Bearer",
      expires_in: this.#accessTtl,
    });
  }

  async #oauthClientApp(
    request: Request,
    method: string,
    guid: string,
  ): Promise<Response> {
    const existing = this.#apps.get(guid);
    if (method === "GET") {
      return existing ? json(200, existing) : apiNotFound();
    }
    if (method === "DELETE") {
      if (!existing) return apiNotFound();
      this.#apps.delete(guid);
      for (const grant of this.#grants) {
        if (grant.clientId === guid) grant.revoked = true;
      }
      return new Response(null, { status: 204 });
    }
    if (method !== "POST" && method !== "PATCH") return apiNotFound();
    if (method === "PATCH" && !existing) return apiNotFound();
    if (method === "POST" && existing) {
      return apiError(
        409,
        `An OAuth client app with client_guid ${guid} already exists`,
      );
    }
    const body = await readJsonObject(request);
    if (typeof body === "string") return apiError(400, body);
    const errors = validateApp(body, method === "POST");
    if (errors.length > 0) {
      return apiError(422, "Validation Failed", { errors });
    }
    const base: OAuthClientApp = existing ?? {
      client_guid: guid,
      redirect_uri: "",
      display_name: guid,
      description: "",
      enabled: true,
      group_id: null,
    };
    const app: OAuthClientApp = {
      client_guid: guid,
      redirect_uri: typeof body.redirect_uri === "string"
        ? body.redirect_uri
        : base.redirect_uri,
      display_name: typeof body.display_name === "string"
        ? body.display_name
        : base.display_name,
      description: typeof body.description === "string"
        ? body.description
        : base.description,
      enabled: typeof body.enabled === "boolean" ? body.enabled : base.enabled,
      group_id: "group_id" in body
        ? body.group_id as string | null
        : base.group_id ?? null,
    };
    this.#apps.set(guid, app);
    return json(200, app);
  }

  // ------------------------------------------------------ token endpoint --

  async #token(request: Request): Promise<Response> {
    this.stats.tokenRequests++;
    const params = await readParams(request);
    const grantType = params.ok ? params.values.get("grant_type") ?? "" : "";
    const response = await this.#tokenResponse(request, params);
    const filter = this.tokenResponseFilter;
    return filter ? await filter(response, grantType) : response;
  }

  #tokenResponse(request: Request, params: Params): Promise<Response> {
    const authorization = request.headers.get("authorization") ?? "";
    if (/^basic\b/i.test(authorization.trim())) {
      return Promise.resolve(
        tokenError("invalid_client", "Failed Basic Authentication"),
      );
    }
    if (!params.ok) {
      return Promise.resolve(tokenError("invalid_request", params.reason));
    }
    const values = params.values;
    switch (values.get("grant_type")) {
      case "authorization_code":
        this.stats.codeExchanges++;
        return this.#exchange(values);
      case "refresh_token":
        this.stats.refreshes++;
        return Promise.resolve(this.#refreshGrant(values));
      case undefined:
      case "":
        return Promise.resolve(
          tokenError("invalid_request", "grant_type is required"),
        );
      default:
        return Promise.resolve(
          tokenError(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
          ),
        );
    }
  }

  async #exchange(values: Map<string, string>): Promise<Response> {
    const missing = firstMissing(values, [
      "code",
      "client_id",
      "redirect_uri",
      "code_verifier",
    ]);
    if (missing) return tokenError("invalid_request", `${missing} is required`);
    const clientId = values.get("client_id")!;
    const app = this.#apps.get(clientId);
    if (!app || !app.enabled) {
      return tokenError("invalid_client", "Unknown or disabled client_id");
    }
    const record = this.#codes.get(values.get("code")!);
    if (!record) {
      return tokenError("invalid_grant", "The authorization code is invalid");
    }
    if (record.used) {
      // RFC 6749 §4.1.2: a code used twice revokes what it gave.
      if (record.grant) record.grant.revoked = true;
      return tokenError(
        "invalid_grant",
        "The authorization code was already used",
      );
    }
    // Any attempt uses the code up, so a verifier cannot be guessed at.
    record.used = true;
    if (record.expiresAt <= this.#now()) {
      return tokenError("invalid_grant", "The authorization code has expired");
    }
    if (record.clientId !== clientId) {
      return tokenError(
        "invalid_grant",
        "The authorization code was issued to another client",
      );
    }
    if (record.redirectUri !== values.get("redirect_uri")) {
      return tokenError("invalid_grant", "redirect_uri does not match");
    }
    const verifier = values.get("code_verifier")!;
    if (
      !VERIFIER.test(verifier) ||
      !sameString(await s256(verifier), record.challenge)
    ) {
      return tokenError(
        "invalid_grant",
        "code_verifier does not match the code_challenge",
      );
    }
    const grant: Grant = { clientId, revoked: false };
    this.#grants.add(grant);
    record.grant = grant;
    return this.#tokens(grant, true);
  }

  #refreshGrant(values: Map<string, string>): Response {
    const missing = firstMissing(values, [
      "refresh_token",
      "client_id",
      "redirect_uri",
    ]);
    if (missing) return tokenError("invalid_request", `${missing} is required`);
    const clientId = values.get("client_id")!;
    const app = this.#apps.get(clientId);
    if (!app || !app.enabled) {
      return tokenError("invalid_client", "Unknown or disabled client_id");
    }
    const token = values.get("refresh_token")!;
    const record = this.#refresh.get(token);
    if (!record || record.grant.clientId !== clientId) {
      return tokenError("invalid_grant", "The refresh token is invalid");
    }
    if (record.status === "rotated") {
      this.stats.refreshReuses++;
      if (this.#revokeOnReuse) record.grant.revoked = true;
      return tokenError(
        "invalid_grant",
        "The refresh token was already used",
      );
    }
    if (record.grant.revoked || record.expiresAt <= this.#now()) {
      return tokenError(
        "invalid_grant",
        "The refresh token has expired or was revoked",
      );
    }
    if (values.get("redirect_uri") !== app.redirect_uri) {
      return tokenError("invalid_grant", "redirect_uri does not match");
    }
    const rotate = this.rotateRefreshTokens;
    if (rotate) record.status = "rotated";
    return this.#tokens(record.grant, rotate);
  }

  #tokens(grant: Grant, withRefreshToken: boolean): Response {
    const body: Record<string, unknown> = {
      access_token: this.#issueAccessToken(grant),
      token_type: "Bearer",
      expires_in: this.#accessTtl,
    };
    if (withRefreshToken) {
      const refresh = randomToken();
      this.#refresh.set(refresh, {
        grant,
        status: "active",
        expiresAt: this.#now() + REFRESH_TTL_MS,
      });
      body.refresh_token = refresh;
    }
    return json(200, body, { pragma: "no-cache" });
  }

  #issueAccessToken(grant: Grant | undefined): string {
    const token = randomToken();
    this.#access.set(token, {
      grant,
      expiresAt: this.#now() + this.#accessTtl * 1000,
      expired: false,
      revoked: false,
    });
    return token;
  }
}

// -------------------------------------------------------------- helpers --

function seconds(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number of seconds`);
  }
  return value;
}

/** Why a redirect URI cannot be registered, or `undefined`. */
function redirectUriProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") {
    return "an OAuth client app needs a redirect_uri";
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "the redirect_uri must be an absolute URL";
  }
  if (url.hash || value.includes("#")) {
    return "the redirect_uri must not contain a fragment";
  }
  return undefined;
}

interface FieldError {
  field: string;
  code: string;
  message: string;
  documentation_url: string;
}

function validateApp(
  body: Record<string, unknown>,
  creating: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (field: string, code: string, message: string) =>
    errors.push({ field, code, message, documentation_url: DOCS_URL });
  if (!("redirect_uri" in body) || body.redirect_uri === null) {
    if (creating) fail("redirect_uri", "missing", "This field is required.");
  } else {
    const problem = redirectUriProblem(body.redirect_uri);
    if (problem) fail("redirect_uri", "invalid", problem);
  }
  for (const field of ["display_name", "description"]) {
    if (field in body && typeof body[field] !== "string") {
      fail(field, "invalid", "Must be a string.");
    }
  }
  if ("enabled" in body && typeof body.enabled !== "boolean") {
    fail("enabled", "invalid", "Must be true or false.");
  }
  if (
    "group_id" in body && body.group_id !== null &&
    typeof body.group_id !== "string"
  ) {
    fail("group_id", "invalid", "Must be a string or null.");
  }
  return errors;
}

function firstMissing(
  values: Map<string, string>,
  names: readonly string[],
): string | undefined {
  return names.find((name) => !values.get(name));
}

async function readForm(request: Request): Promise<URLSearchParams> {
  try {
    return new URLSearchParams(await request.text());
  } catch {
    return new URLSearchParams();
  }
}

function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`;
}

function redirect(location: string, cookie?: string): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  if (cookie) headers.append("set-cookie", cookie);
  return new Response(null, { status: 302, headers });
}

function badAuthRequest(
  title: string,
  explanation: string,
  details: readonly Detail[] = [],
  advice?: string,
): Response {
  return html(400, errorPage(title, explanation, details, advice));
}

function withCors(response: Response, origin: string): Response {
  const headers = new Headers(response.headers);
  headers.set("access-control-allow-origin", origin);
  headers.append("vary", "Origin");
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
