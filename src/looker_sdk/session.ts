/**
 * The official Looker SDK on looker-oauth's tokens.
 *
 * @module
 */
import {
  AuthToken,
  BrowserTransport,
  DefaultSettings,
  type IRawResponse,
} from "@looker/sdk-rtl";
import type {
  IAccessToken,
  IApiSettings,
  IAuthSession,
  IRequestProps,
  ITransport,
  ITransportSettings,
} from "./_sdk_types.ts";
import { OAuthError } from "../core/errors.ts";
import type { TokenSession } from "../core/session.ts";
import type { TokenSet } from "../core/token.ts";
import {
  assertTokenOrigin,
  bearerHeader,
  isPlainHttpAllowed,
} from "../core/transport.ts";
import type { OpenProfileOptions } from "../store/profiles.ts";

/** Options for the {@linkcode LookerSdkSession} constructor. */
export interface LookerSdkSessionOptions {
  /** The signed-in session whose tokens the SDK uses. */
  session: TokenSession;
  /**
   * The Looker API host (the SDK's `base_url`), e.g.
   * `https://example.looker.com:19999`. The access token is sent to this
   * origin only.
   */
  apiUrl: string;
  /**
   * Accept a plain `http:` API URL off loopback (default `false`, as for
   * {@linkcode TokenSession}): the access token would cross the network in
   * clear text.
   */
  allowInsecureHttp?: boolean;
  /**
   * SDK settings to merge (`timeout` in seconds, `headers`, `agentTag`,
   * `maxTries`...). `base_url` is always `apiUrl`.
   */
  settings?: Partial<ITransportSettings>;
  /**
   * Extra `fetch` options added to every SDK request: in Deno, `client`
   * from `Deno.createHttpClient` to trust a private CA.
   */
  requestInit?: RequestInit & { client?: unknown };
}

/**
 * An `IAuthSession` for `@looker/sdk`: `new Looker40SDK(session)` calls the
 * API with the access tokens of a {@linkcode TokenSession}.
 *
 * The SDK only ever sees access tokens: the refresh token stays with the
 * `TokenSession`, which refreshes (single-flight, under the store's lock)
 * when the token is about to expire, so the SDK never rotates a refresh token
 * behind another holder's back. A `401` answer makes it refresh once (unless
 * another caller already did) and retry once. `logout()` ends the grant on
 * Looker through {@linkcode TokenSession.signOut} and forgets the tokens.
 * Sudo (`login(userId)`) needs an API3 key and is not offered.
 *
 * It runs wherever the core does (browsers, Deno); only
 * {@linkcode LookerSdkSession.fromProfile} needs Deno.
 *
 * @example A script on the CLI's sign-in
 * ```ts ignore
 * import { Looker40SDK } from "@looker/sdk";
 * import { LookerSdkSession } from "@looker-oauth/pkce/looker-sdk";
 *
 * const sdk = new Looker40SDK(await LookerSdkSession.fromProfile());
 * console.log(await sdk.ok(sdk.me()));
 * ```
 */
export class LookerSdkSession implements IAuthSession {
  /** The SDK's settings; `base_url` is the API host. */
  settings: IApiSettings;
  /** The SDK's transport: its `BrowserTransport` (fetch), retrying a 401 once. */
  transport: ITransport;
  /** Always empty: sudo is not offered. */
  sudoId = "";
  readonly #session: TokenSession;
  readonly #origin: string;
  readonly #init: (RequestInit & { client?: unknown }) | undefined;
  #current: { accessToken: string; expiresAt: number } | undefined;

  /**
   * Wraps a session for the SDK.
   *
   * @param options The session, the API host, SDK settings.
   * @throws {OAuthError} `invalid_argument` when `apiUrl` is not an absolute
   *   http(s) URL; `insecure_http` when it is plain `http:` off loopback
   *   and `allowInsecureHttp` is not set.
   */
  constructor(options: LookerSdkSessionOptions) {
    let api: URL;
    try {
      api = new URL(options.apiUrl);
    } catch {
      throw new OAuthError("invalid_argument", "apiUrl is not an absolute URL");
    }
    if (api.protocol !== "https:" && api.protocol !== "http:") {
      throw new OAuthError("invalid_argument", "apiUrl must be http(s)");
    }
    if (
      api.protocol === "http:" &&
      !isPlainHttpAllowed(api, options.allowInsecureHttp === true)
    ) {
      throw new OAuthError(
        "insecure_http",
        `refusing to send the access token to ${api.origin} over plain http`,
        {
          hint:
            "use https://; plain http is accepted only for 127.0.0.1, ::1 and localhost unless allowInsecureHttp is set",
        },
      );
    }
    this.#session = options.session;
    this.#origin = api.origin;
    this.#init = options.requestInit;
    this.settings = {
      ...DefaultSettings(),
      // With no signal of its own, the SDK's transport logs a line through
      // console.debug on every request; this one never aborts.
      signal: new AbortController().signal,
      ...options.settings,
      // The SDK appends "/api/4.0" itself.
      base_url: api.href.replace(/\/+$/, ""),
    };
    this.transport = new RetryOn401Transport(
      this.settings,
      (refused) => this.#recover(refused),
    );
  }

  /**
   * The session of a profile saved by `looker-oauth login` (Deno only): same
   * token file and cross-process lock as the CLI, and the profile's CA file
   * if it has one.
   *
   * @param name The profile; default `$LOOKER_OAUTH_PROFILE`, else
   *   `default`.
   * @param options Where the state is, SDK settings.
   * @returns The SDK session.
   * @throws {OAuthError} `login_required` when the profile does not exist;
   *   `invalid_argument` when it is not a Looker profile.
   * @throws {TokenStoreError} `invalid_profile` for a bad profile name.
   */
  static async fromProfile(
    name?: string,
    options: Omit<OpenProfileOptions, "profile"> & {
      settings?: Partial<ITransportSettings>;
    } = {},
  ): Promise<LookerSdkSession> {
    const { settings, ...open } = options;
    // Loaded here, not with this module: the profile files need Deno, and a
    // browser page that imports this module never calls fromProfile().
    const { openProfile } = await import("../store/profiles.ts");
    const opened = await openProfile({
      ...open,
      ...(name === undefined ? {} : { profile: name }),
    });
    const { profile } = opened;
    if (profile.kind !== "looker" || !profile.apiUrl) {
      throw new OAuthError(
        "invalid_argument",
        `profile "${opened.name}" is not a Looker sign-in`,
        { hint: "sign in with: looker-oauth login --looker-url URL" },
      );
    }
    return new LookerSdkSession({
      session: opened.session,
      apiUrl: profile.apiUrl,
      // Plain http off loopback only if the CLI's login allowed it.
      allowInsecureHttp: profile.insecureHttp === true,
      // The API timeout saved at sign-in (LOOKERSDK_TIMEOUT, looker.ini).
      settings: {
        ...(profile.timeout === undefined ? {} : { timeout: profile.timeout }),
        ...settings,
      },
      // The profile's private CA, for the SDK's own requests too.
      ...(opened.client ? { requestInit: { client: opened.client } } : {}),
    });
  }

  /**
   * Whether an access token is at hand and not expired. Synchronous, as the
   * SDK wants: it knows only the token of the last request.
   *
   * @returns `true` when the last token seen is still valid.
   */
  isAuthenticated(): boolean {
    return this.#current !== undefined && this.#current.expiresAt > Date.now();
  }

  /**
   * Adds `Authorization: Bearer` with a valid access token to an SDK
   * request, refreshing through the session first when needed.
   *
   * @param props The SDK's request.
   * @returns The same request, authenticated.
   * @throws {OAuthError} `invalid_argument` for a request to another origin
   *   than the API host (the token is not sent); `login_required` when signed
   *   out or the refresh was refused.
   */
  async authenticate(props: IRequestProps): Promise<IRequestProps> {
    assertTokenOrigin(props.url, this.#origin);
    const tokens = await this.#session.getTokens();
    this.#remember(tokens);
    props.headers = {
      ...props.headers,
      Authorization: bearerHeader(tokens.accessToken),
    };
    if (this.#init) Object.assign(props, this.#init);
    return props;
  }

  /**
   * The current access token, refreshed first if needed, as the SDK's
   * `AuthToken` (an {@linkcode IAccessToken}) — without the refresh token.
   *
   * @returns The token.
   * @throws {OAuthError} `login_required` when signed out.
   */
  async getToken(): Promise<IAccessToken> {
    const tokens = await this.#session.getTokens();
    this.#remember(tokens);
    return new AuthToken({
      access_token: tokens.accessToken,
      token_type: tokens.tokenType,
      expires_in: Math.max(
        0,
        Math.floor((tokens.expiresAt - Date.now()) / 1000),
      ),
    });
  }

  /**
   * Makes sure there is a valid access token (refreshing if needed).
   *
   * @param sudoId Not supported: sudo needs an API3 key.
   * @returns The token, as {@linkcode LookerSdkSession.getToken}.
   * @throws {OAuthError} `unsupported` with a `sudoId`; `login_required`
   *   when signed out.
   */
  login(sudoId?: string | number): Promise<IAccessToken> {
    if (sudoId !== undefined && sudoId !== "") {
      return Promise.reject(
        new OAuthError(
          "unsupported",
          "sudo needs an API3 key; an OAuth session cannot act as another user",
        ),
      );
    }
    return this.getToken();
  }

  /**
   * Ends the grant on Looker (`DELETE /api/4.0/logout`, which also kills the
   * refresh token) and forgets the tokens, for every holder of the store.
   *
   * @returns `true` when Looker confirmed; `false` when already signed out.
   * @throws {OAuthError} Transport errors; the tokens are kept then.
   */
  async logout(): Promise<boolean> {
    const { revoked } = await this.#session.signOut();
    this.#current = undefined;
    return revoked;
  }

  /**
   * Whether this session acts as another user: never.
   *
   * @returns `false`.
   */
  isSudo(): boolean {
    return false;
  }

  /** Forgets the token of the last request (the stored tokens stay). */
  reset(): void {
    this.#current = undefined;
  }

  /**
   * After a 401: refreshes, unless the stored token already differs from the
   * one that was refused (another caller refreshed). Returns whether a retry
   * can help.
   */
  async #recover(refused: string | undefined): Promise<boolean> {
    if (refused === undefined) return false;
    const tokens = await this.#session.getTokens();
    if (tokens.accessToken !== refused) {
      this.#remember(tokens);
      return true;
    }
    this.#remember(await this.#session.refresh());
    return true;
  }

  #remember(tokens: TokenSet): void {
    this.#current = {
      accessToken: tokens.accessToken,
      expiresAt: tokens.expiresAt,
    };
  }
}

/** The SDK's fetch transport, with one refresh-and-retry after a 401. */
class RetryOn401Transport extends BrowserTransport {
  readonly #recover: (refused: string | undefined) => Promise<boolean>;

  constructor(
    settings: ITransportSettings,
    recover: (refused: string | undefined) => Promise<boolean>,
  ) {
    super(settings);
    this.#recover = recover;
  }

  override async rawRequest(
    ...args: Parameters<BrowserTransport["rawRequest"]>
  ): Promise<IRawResponse> {
    const [method, path, query, body, authenticator, options] = args;
    let sent: string | undefined;
    const recording = authenticator === undefined
      ? undefined
      : async (props: IRequestProps): Promise<IRequestProps> => {
        const out = await authenticator(props);
        const header = String(out.headers?.["Authorization"] ?? "");
        sent = header.startsWith("Bearer ") ? header.slice(7) : undefined;
        return out;
      };
    const first = await super.rawRequest(
      method,
      path,
      query,
      body,
      recording,
      options,
    );
    if (
      first.statusCode !== 401 || recording === undefined ||
      body instanceof ReadableStream || !(await this.#recover(sent))
    ) {
      return first;
    }
    return await super.rawRequest(
      method,
      path,
      query,
      body,
      authenticator,
      options,
    );
  }
}
