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
import { ApiHost } from "./_api_host.ts";
import { errorPage, html } from "./_pages.ts";
import {
  type ApiResponseFilter,
  EmulatorState,
  type TokenResponseFilter,
} from "./_state.ts";
import { TokenEndpoint } from "./_token_endpoint.ts";
import { UiHost } from "./_ui_host.ts";
import { apiError } from "./_util.ts";

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
  /**
   * Token answers carry the optional members they have no value for as
   * `null`, as Looker's API spec allows (`refresh_token`, `scope`,
   * `id_token`): e.g. `"refresh_token": null` on a refresh without
   * rotation. Default `false` (absent members are left out).
   */
  nullOptionalMembers?: boolean;
  /**
   * Answer a refused refresh the way Looker's API answers its other errors:
   * `{message, documentation_url}` with this status and no `error` member,
   * instead of RFC 6749's `{error: "invalid_grant", ...}` 400. Default: the
   * RFC 6749 answer.
   */
  lookerStyleRefusals?: 400 | 401 | 403;
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
  /**
   * Serve both hosts over HTTPS with this certificate and key (PEM), as an
   * on-premises Looker with a private CA does. The certificate must name
   * `127.0.0.1` (an IP subject alternative name). Default: plain HTTP.
   */
  tls?: { cert: string; key: string };
}

/**
 * Live counters of what the emulator was asked.
 *
 * @example
 * ```ts ignore
 * import type { TokenSession } from "@looker-oauth/pkce";
 * import type { LookerEmulator } from "./looker_emulator.ts";
 *
 * declare const looker: LookerEmulator; // the session signs in here
 * declare const session: TokenSession; // with an expired access token
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
  /**
   * CORS preflights (`OPTIONS`) refused because their origin is not on the
   * embedded domain allowlist.
   */
  readonly refusedPreflights: number;
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
   * Test hook: replaces or alters every other answer of the API host (a 429
   * or 503 with `Retry-After`), after the emulator has acted on the request,
   * with its method, path and headers.
   */
  apiResponseFilter:
    | ((
      response: Response,
      request: { method: string; path: string; headers: Headers },
    ) => Response | Promise<Response>)
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
 * import assert from "node:assert/strict";
 * import { DEFAULT_EMULATOR_USER } from "./looker_emulator.ts";
 *
 * assert.equal(DEFAULT_EMULATOR_USER.email, "ada@example.com");
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
 * detection), `GET /api/versions` and `/api/4.0/versions` (no token needed),
 * `POST /api/4.0/login` (API3 key; `"refresh_token": null`),
 * `GET /api/4.0/user`, `DELETE /api/4.0/logout` (and `/api/logout`, where
 * the TypeScript SDK signs out), and
 * `/api/4.0/oauth_client_apps[/{client_guid}]` (list, register, get, update,
 * delete; deleting a missing app is not an error). A bad token on any
 * `/api/4.0` endpoint gets `401 {"message":"Requires authentication."}`.
 * PKCE challenges are taken as Looker takes them from the official clients:
 * base64url with or without `=` padding, or hex.
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

/** Starts and stops the two hosts; every request goes to their handlers. */
class Emulator implements LookerEmulator {
  readonly #state: EmulatorState;
  readonly #ui: UiHost;
  readonly #api: ApiHost;
  #servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  #closing: Promise<void> | undefined;
  readonly #tls: { cert: string; key: string } | undefined;

  constructor(options: LookerEmulatorOptions) {
    this.#tls = options.tls;
    this.#state = new EmulatorState(options, DEFAULT_EMULATOR_USER);
    this.#ui = new UiHost(this.#state);
    this.#api = new ApiHost(this.#state, new TokenEndpoint(this.#state));
  }

  get lookerUrl(): string {
    return this.#state.lookerUrl;
  }

  get apiUrl(): string {
    return this.#state.apiUrl;
  }

  get apiCredentials(): { clientId: string; clientSecret: string } {
    return this.#state.apiCredentials;
  }

  get stats(): EmulatorStats {
    return this.#state.stats;
  }

  get rotateRefreshTokens(): boolean {
    return this.#state.rotateRefreshTokens;
  }

  set rotateRefreshTokens(value: boolean) {
    this.#state.rotateRefreshTokens = value;
  }

  get tokenResponseFilter(): TokenResponseFilter | undefined {
    return this.#state.tokenResponseFilter;
  }

  set tokenResponseFilter(filter: TokenResponseFilter | undefined) {
    this.#state.tokenResponseFilter = filter;
  }

  get apiResponseFilter(): ApiResponseFilter | undefined {
    return this.#state.apiResponseFilter;
  }

  set apiResponseFilter(filter: ApiResponseFilter | undefined) {
    this.#state.apiResponseFilter = filter;
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
        ...(this.#tls ? { cert: this.#tls.cert, key: this.#tls.key } : {}),
      }, handler);
    const ui = start(
      (request) => this.#ui.handle(request),
      () => html(500, errorPage("Server error", "The emulator failed.")),
    );
    this.#servers.push(ui);
    try {
      const api = start(
        (request) => this.#api.handle(request),
        () => apiError(500, "Internal server error"),
      );
      this.#servers.push(api);
      const scheme = this.#tls ? "https" : "http";
      this.#state.lookerUrl = `${scheme}://127.0.0.1:${ui.addr.port}`;
      this.#state.apiUrl = `${scheme}://127.0.0.1:${api.addr.port}`;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  registerApp(app: OAuthClientApp): void {
    this.#state.registerApp(app);
  }

  expireAccessTokens(): void {
    this.#state.expireAccessTokens();
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
}
