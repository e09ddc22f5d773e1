// Private to the Looker emulator: everything it remembers — the registered
// apps, the user, browser sessions, pending sign-ins, codes, grants, access
// and refresh tokens with their rotation — and the counters. The UI host,
// the API host and the token endpoint read and change it; none of them keeps
// state of its own.
import type {
  EmulatorStats,
  EmulatorUser,
  LookerEmulatorOptions,
  OAuthClientApp,
} from "./looker_emulator.ts";
import { randomAlnum, randomToken } from "./_util.ts";

/** How long a sign-in may wait on the sign-in and consent pages. */
export const PENDING_TTL_MS = 10 * 60_000;
/** How long a refresh token lives (Looker: about a month). */
export const REFRESH_TTL_MS = 30 * 24 * 3600_000;

/** A browser's session on the UI host, found by its cookie. */
export interface Session {
  id: string;
  csrf: string;
  signedIn: boolean;
  consented: Set<string>;
}

/** An authorization request waiting for sign-in or consent. */
export interface Pending {
  id: string;
  sessionId: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  challenge: string;
  expiresAt: number;
}

/** One sign-in's tokens: revoking it kills all of them. */
export interface Grant {
  clientId: string;
  revoked: boolean;
}

/** An authorization code and what it was issued for. */
export interface CodeRecord {
  clientId: string;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
  used: boolean;
  grant: Grant | undefined;
}

/** An access token's life. */
export interface AccessRecord {
  /** `undefined` for API3 login tokens. */
  grant: Grant | undefined;
  expiresAt: number;
  expired: boolean;
  revoked: boolean;
}

/** A refresh token: active until used once when rotation is on. */
export interface RefreshRecord {
  grant: Grant;
  status: "active" | "rotated";
  expiresAt: number;
}

/** The fields of an authorization request a code is issued for. */
export interface CodeRequest {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  challenge: string;
}

/** What `POST /api/token` hands its answer to last (a test hook). */
export type TokenResponseFilter = (
  response: Response,
  grantType: string,
) => Response | Promise<Response>;

/**
 * What the API host hands its other answers to last (a test hook), with the
 * request's method and path.
 */
export type ApiResponseFilter = (
  response: Response,
  request: { method: string; path: string; headers: Headers },
) => Response | Promise<Response>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The emulator's memory, shared by its hosts. */
export class EmulatorState {
  /** The UI host's URL, set once it listens. */
  lookerUrl = "";
  /** The API host's URL, set once it listens. */
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
    refusedPreflights: 0,
  };
  rotateRefreshTokens: boolean;
  tokenResponseFilter: TokenResponseFilter | undefined = undefined;
  apiResponseFilter: ApiResponseFilter | undefined = undefined;

  readonly apps = new Map<string, OAuthClientApp>();
  readonly user: EmulatorUser;
  readonly revokeOnReuse: boolean;
  /** Absent optional token members are sent as `null`. */
  readonly nullOptionalMembers: boolean;
  /** The status of Looker-style refresh refusals, if they are so answered. */
  readonly lookerStyleRefusals: 400 | 401 | 403 | undefined;
  /** Access token lifetime, seconds. */
  readonly accessTtl: number;
  /** Authorization code lifetime, seconds. */
  readonly codeTtl: number;
  readonly autoApprove: boolean;
  readonly origins: Set<string>;
  readonly now: () => number;

  readonly sessions = new Map<string, Session>();
  readonly pending = new Map<string, Pending>();
  readonly codes = new Map<string, CodeRecord>();
  readonly grants = new Set<Grant>();
  readonly access = new Map<string, AccessRecord>();
  readonly refresh = new Map<string, RefreshRecord>();

  /**
   * @param options The emulator's options.
   * @param defaultUser The user when `options.user` is not given.
   * @throws {TypeError} For an invalid app or TTL.
   */
  constructor(options: LookerEmulatorOptions, defaultUser: EmulatorUser) {
    this.user = { ...(options.user ?? defaultUser) };
    this.rotateRefreshTokens = options.rotateRefreshTokens ?? true;
    this.revokeOnReuse = options.revokeGrantOnRefreshReuse ?? true;
    this.nullOptionalMembers = options.nullOptionalMembers === true;
    if (
      options.lookerStyleRefusals !== undefined &&
      ![400, 401, 403].includes(options.lookerStyleRefusals)
    ) {
      throw new TypeError("lookerStyleRefusals must be 400, 401 or 403");
    }
    this.lookerStyleRefusals = options.lookerStyleRefusals;
    this.accessTtl = seconds(options.accessTokenTtl, 3600, "accessTokenTtl");
    this.codeTtl = seconds(options.codeTtl, 60, "codeTtl");
    this.autoApprove = options.autoApprove ?? false;
    this.origins = new Set(options.allowedOrigins ?? []);
    this.now = options.now ?? Date.now;
    this.apiCredentials = options.apiCredentials
      ? { ...options.apiCredentials }
      : { clientId: randomAlnum(20), clientSecret: randomAlnum(24) };
    for (const app of options.apps ?? []) this.registerApp(app);
  }

  /** Registers an app, or replaces the one with its `client_guid`. */
  registerApp(app: OAuthClientApp): void {
    if (typeof app?.client_guid !== "string" || app.client_guid === "") {
      throw new TypeError("an OAuth client app needs a client_guid");
    }
    const problem = redirectUriProblem(app.redirect_uri);
    if (problem) throw new TypeError(problem);
    this.apps.set(app.client_guid, {
      client_guid: app.client_guid,
      redirect_uri: app.redirect_uri,
      display_name: String(app.display_name ?? app.client_guid),
      description: String(app.description ?? ""),
      enabled: app.enabled !== false,
      group_id: app.group_id ?? null,
    });
  }

  /** Makes every access token issued so far expired. */
  expireAccessTokens(): void {
    for (const record of this.access.values()) record.expired = true;
  }

  /** Issues a single-use authorization code for a checked request. */
  issueCode(request: CodeRequest): string {
    const code = randomToken();
    this.codes.set(code, {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      challenge: request.challenge,
      expiresAt: this.now() + this.codeTtl * 1000,
      used: false,
      grant: undefined,
    });
    this.stats.authorizations++;
    return code;
  }

  /** Issues an access token, of a grant or (`undefined`) of an API3 login. */
  issueAccessToken(grant: Grant | undefined): string {
    const token = randomToken();
    this.access.set(token, {
      grant,
      expiresAt: this.now() + this.accessTtl * 1000,
      expired: false,
      revoked: false,
    });
    return token;
  }

  /** Issues a fresh, active refresh token of a grant. */
  issueRefreshToken(grant: Grant): string {
    const refresh = randomToken();
    this.refresh.set(refresh, {
      grant,
      status: "active",
      expiresAt: this.now() + REFRESH_TTL_MS,
    });
    return refresh;
  }

  /** The access token's record when it is still valid, else `undefined`. */
  validAccess(token: string): AccessRecord | undefined {
    const record = this.access.get(token);
    if (
      !record || record.revoked || record.expired ||
      record.expiresAt <= this.now() || record.grant?.revoked
    ) {
      return undefined;
    }
    return record;
  }
}

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
export function redirectUriProblem(value: unknown): string | undefined {
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
