/**
 * Sign-in helpers for server and edge apps, over Web-standard `Request` and
 * `Response`: sign in, handle the callback, the session of a request, sign
 * out. Tokens stay server-side in a {@linkcode SessionStore}; the browser
 * holds only a random session id. The order of the checks and the cookies'
 * flags are explained in docs/architecture.md ("Server and edge sign-in").
 *
 * @module
 */
import { startAuthorization } from "../core/authorization.ts";
import { parseCallback } from "../core/callback.ts";
import { isOAuthError, OAuthError } from "../core/errors.ts";
import type { HttpOptions } from "../core/http_options.ts";
import type { AuthServer } from "../core/server.ts";
import { TokenSession } from "../core/session.ts";
import type { TokenStore } from "../core/store.ts";
import { httpOptionsOf, isPlainHttpAllowed } from "../core/transport.ts";
import { exchangeCode, type TokenSet } from "../core/token.ts";
import { encodeBase64Url } from "../core/base64url.ts";
import { readCookie, serializeCookie } from "./_cookies.ts";
import { baseHeaders, errorResponse } from "./_pages.ts";
import { SignInError } from "./errors.ts";
import { Sealer } from "./seal.ts";
import type { SessionRecord, SessionStore } from "./session_store.ts";

/** How long a started sign-in may take: the sign-in cookie's lifetime. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

/** How long a session lasts by default: 7 days. */
export const DEFAULT_SESSION_TTL_MS = 7 * 24 * 3600_000;

/** Options for {@linkcode createAuthHelpers}. */
export interface AuthHelpersOptions extends HttpOptions {
  /** Where people sign in: `lookerServer(...)`, `discover(...)`, ... */
  server: AuthServer;
  /** The client id (Looker: the registered `client_guid`). */
  clientId: string;
  /**
   * The app's callback URL, exactly as registered. Its origin is the app's
   * origin: pages to return to must be on it. Cookies are `Secure` unless it
   * is `http:` on a loopback host.
   */
  redirectUri: string;
  /**
   * The secret that seals the sign-in cookie, at least 32 bytes; or a list
   * of them to rotate: the first seals, all unseal.
   */
  cookieSecret: string | readonly string[];
  /** Where sessions are kept. */
  store: SessionStore;
  /** Scopes to ask for (Looker default: `cors_api`). */
  scope?: string;
  /** More authorization parameters, e.g. `prompt`. */
  extraParams?: Readonly<Record<string, string>>;
  /** Session lifetime in ms. Default {@linkcode DEFAULT_SESSION_TTL_MS}. */
  sessionTtl?: number;
  /** Cookie name prefix. Default `looker_oauth`. */
  cookieName?: string;
  /** Where sign-out sends the browser. Default `/`. */
  afterSignOut?: string;
  /** Refresh when fewer than this many ms remain. Default 60 000. */
  refreshMargin?: number;
  /**
   * Base URL of the API the session calls; the token goes to no other
   * origin. Default: Looker's API URL.
   */
  apiUrl?: string;
  /** The clock, in epoch ms; `Date.now` by default. */
  now?: () => number;
}

/** Options for {@linkcode AuthHelpers.signIn}. */
export interface SignInOptions {
  /**
   * The path to return to after signing in. Default: the request's
   * `returnTo` query parameter, else `/`.
   */
  returnTo?: string;
}

/** A signed-in session, as {@linkcode AuthHelpers.getSession} returns it. */
export interface ServerSession {
  /** The store key of the session (a digest of the cookie, not the cookie). */
  readonly key: string;
  /** When the session was created, in epoch ms. */
  readonly createdAt: number;
  /** When the session ends, in epoch ms. */
  readonly expiresAt: number;
  /** Returns a valid access token, refreshing it first if needed. */
  getAccessToken(): Promise<string>;
  /** Returns valid tokens, refreshing them first if needed. */
  getTokens(): Promise<TokenSet>;
  /**
   * Calls the API with a valid token: a path resolves against the API URL,
   * and a 401 refreshes and retries once (see the core's `TokenSession`).
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
}

/** What {@linkcode createAuthHelpers} returns. */
export interface AuthHelpers {
  /**
   * Starts a sign-in: a 302 to the authorization endpoint, and a sealed,
   * short-lived sign-in cookie (state, verifier, page to return to).
   * A `returnTo` that is not a path on the app's origin gets a 400.
   */
  signIn(request: Request, options?: SignInOptions): Promise<Response>;
  /**
   * Completes a sign-in on the redirect URI: checks the sign-in cookie and
   * `state` before anything else, exchanges the code once, stores the tokens
   * under a new session and redirects to the saved page. Bad input gets a
   * 400 page and changes nothing.
   */
  handleCallback(request: Request): Promise<Response>;
  /** The signed-in session of a request, or `undefined`. */
  getSession(request: Request): Promise<ServerSession | undefined>;
  /**
   * Signs out: `POST` only (other methods get 405, a cross-site request
   * 403). Ends the grant on the server (Looker's logout or RFC 7009),
   * deletes the session and clears the cookie, then redirects (303).
   */
  signOut(request: Request): Promise<Response>;
}

interface PendingSignIn {
  s: string; // state
  v: string; // code verifier
  r: string; // page to return to
  n?: string; // OpenID Connect nonce, when openid was requested
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const KEY_CACHE_SIZE = 4096;
const encoder = new TextEncoder();

/**
 * Creates the sign-in helpers once, from a config, for the app's request
 * handler.
 *
 * @param options Server, client, redirect URI, cookie secret, session store.
 * @returns The helpers.
 * @throws {SignInError} `weak_secret` for a missing or short cookie secret;
 *   `invalid_config` for another missing or malformed setting.
 *
 * @example A `deno serve` app
 * ```ts ignore
 * import { lookerServer } from "@looker-oauth/pkce/core";
 * import {
 *   createAuthHelpers,
 *   MemorySessionStore,
 * } from "@looker-oauth/pkce/server";
 *
 * const auth = createAuthHelpers({
 *   server: lookerServer({ lookerUrl: "https://example.looker.com" }),
 *   clientId: "my-app",
 *   redirectUri: "https://app.example.com/callback",
 *   cookieSecret: Deno.env.get("COOKIE_SECRET")!,
 *   store: new MemorySessionStore(),
 * });
 * export default {
 *   async fetch(request: Request): Promise<Response> {
 *     const { pathname } = new URL(request.url);
 *     if (pathname === "/signin") return await auth.signIn(request);
 *     if (pathname === "/callback") return await auth.handleCallback(request);
 *     if (pathname === "/signout") return await auth.signOut(request);
 *     const session = await auth.getSession(request);
 *     if (!session) return new Response('<a href="/signin">Sign in</a>');
 *     return await session.fetch("/api/4.0/user");
 *   },
 * };
 * ```
 */
export function createAuthHelpers(options: AuthHelpersOptions): AuthHelpers {
  return new Helpers(options);
}

class Helpers implements AuthHelpers {
  readonly #options: AuthHelpersOptions;
  readonly #sealer: Sealer;
  readonly #now: () => number;
  readonly #origin: string;
  readonly #callbackPath: string;
  readonly #secure: boolean;
  readonly #sessionCookie: string;
  readonly #signInCookie: string;
  readonly #sessionTtl: number;
  readonly #afterSignOut: string;
  readonly #keys = new Map<string, string>();
  readonly #refreshMargin: number;

  constructor(options: AuthHelpersOptions) {
    if (!options || typeof options !== "object") {
      throw config("the options are required");
    }
    const { server, clientId, redirectUri, store } = options;
    if (!server?.metadata?.authorization_endpoint) {
      throw config("server must be an AuthServer (lookerServer, discover)");
    }
    if (typeof clientId !== "string" || clientId.trim() === "") {
      throw config("clientId is required");
    }
    let redirect: URL;
    try {
      redirect = new URL(redirectUri);
    } catch {
      throw config("redirectUri must be an absolute URL");
    }
    if (redirect.protocol !== "https:" && redirect.protocol !== "http:") {
      throw config("redirectUri must be an http: or https: URL");
    }
    for (const method of ["get", "set", "delete", "claim", "withLock"]) {
      if (
        typeof (store as unknown as Record<string, unknown>)?.[method] !==
          "function"
      ) {
        throw config(`store must be a SessionStore (it has no ${method}())`);
      }
    }
    const name = options.cookieName ?? "looker_oauth";
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw config("cookieName must be 1 to 64 of A-Z a-z 0-9 _ -");
    }
    this.#sessionTtl = options.sessionTtl ?? DEFAULT_SESSION_TTL_MS;
    if (!(this.#sessionTtl >= 60_000) || !Number.isFinite(this.#sessionTtl)) {
      throw config("sessionTtl must be a number of ms, at least 60 000");
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#refreshMargin = options.refreshMargin ?? 60_000;
    this.#sealer = new Sealer(options.cookieSecret, { now: this.#now });
    this.#origin = redirect.origin;
    this.#callbackPath = redirect.pathname;
    this.#secure = !isPlainHttpAllowed(redirect, false);
    this.#sessionCookie = `${name}_session`;
    this.#signInCookie = `${name}_signin`;
    const after = safePath(options.afterSignOut ?? "/", this.#origin);
    if (after === undefined) {
      throw config("afterSignOut must be a path on the app's origin");
    }
    this.#afterSignOut = after;
  }

  async signIn(
    request: Request,
    options: SignInOptions = {},
  ): Promise<Response> {
    const requested = options.returnTo ??
      new URL(request.url).searchParams.get("returnTo") ?? "/";
    const returnTo = safePath(requested, this.#origin);
    if (returnTo === undefined) {
      return errorResponse(
        400,
        new SignInError(
          "invalid_return_to",
          "the page to return to is not on this site",
          { hint: "sign in from a link on this site" },
        ),
      );
    }
    const { server, clientId, redirectUri, scope, extraParams } = this.#options;
    const pending = await startAuthorization(server, {
      clientId,
      redirectUri,
      ...(scope === undefined ? {} : { scope }),
      ...(extraParams === undefined ? {} : { extraParams }),
    });
    const sealed = await this.#sealer.seal(
      {
        s: pending.state,
        v: pending.codeVerifier,
        r: returnTo,
        ...(pending.nonce === undefined ? {} : { n: pending.nonce }),
      },
      { purpose: this.#signInCookie, maxAge: SIGN_IN_TTL_MS },
    );
    const headers = baseHeaders();
    headers.set("location", pending.url.href);
    headers.append(
      "set-cookie",
      serializeCookie(this.#signInCookie, sealed, {
        path: this.#callbackPath,
        maxAge: SIGN_IN_TTL_MS / 1000,
        secure: this.#secure,
        sameSite: "Lax",
      }),
    );
    return new Response(null, { status: 302, headers });
  }

  async handleCallback(request: Request): Promise<Response> {
    const sealed = readCookie(request.headers, this.#signInCookie);
    if (!sealed) {
      return errorResponse(
        400,
        new SignInError(
          "missing_cookie",
          "this sign-in was not started in this browser, or took longer than 10 minutes",
          { hint: "start the sign-in again from this site" },
        ),
      );
    }
    let pending: PendingSignIn;
    try {
      pending = toPending(
        await this.#sealer.unseal(sealed, { purpose: this.#signInCookie }),
      );
    } catch (err) {
      if (err instanceof SignInError) return errorResponse(400, err);
      throw err;
    }
    const { server, clientId, redirectUri } = this.#options;
    let code: string;
    try {
      code = parseCallback(server, request.url, { state: pending.s });
    } catch (err) {
      if (err instanceof OAuthError) return errorResponse(400, err);
      throw err;
    }
    const returnTo = safePath(pending.r, this.#origin) ?? "/";
    if (
      !(await this.#options.store.claim(
        `signin:${await digest(pending.s)}`,
        SIGN_IN_TTL_MS,
      ))
    ) {
      return errorResponse(
        400,
        new SignInError(
          "replayed_callback",
          "this sign-in was already completed",
          { hint: "start a new sign-in from this site" },
        ),
      );
    }
    let tokens: TokenSet;
    try {
      tokens = await exchangeCode(server, {
        ...this.#http(),
        clientId,
        redirectUri,
        code,
        codeVerifier: pending.v,
        ...(pending.n === undefined ? {} : { nonce: pending.n }),
        now: this.#now,
      });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const upstream = isOAuthError(
        err,
        "server_error",
        "network_error",
        "timeout",
        "invalid_response",
        "response_too_large",
        "wrong_host",
      );
      return errorResponse(upstream ? 502 : 400, err);
    }
    const id = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    const createdAt = this.#now();
    await this.#options.store.set(await digest(id), {
      tokens,
      createdAt,
      expiresAt: createdAt + this.#sessionTtl,
    });
    // A session this browser had before is replaced, not kept alive.
    const previous = readCookie(request.headers, this.#sessionCookie);
    if (previous && SESSION_ID.test(previous)) {
      await this.#options.store.delete(await digest(previous));
    }
    const headers = baseHeaders();
    headers.set("location", returnTo);
    headers.append("set-cookie", this.#sessionSetCookie(id, this.#sessionTtl));
    headers.append(
      "set-cookie",
      serializeCookie(this.#signInCookie, "", {
        path: this.#callbackPath,
        maxAge: 0,
        secure: this.#secure,
        sameSite: "Lax",
      }),
    );
    return new Response(null, { status: 302, headers });
  }

  async getSession(request: Request): Promise<ServerSession | undefined> {
    const id = readCookie(request.headers, this.#sessionCookie);
    if (!id || !SESSION_ID.test(id)) return undefined;
    const key = this.#keys.get(id) ?? await this.#keyOf(id);
    const record = await this.#options.store.get(key);
    if (!record || record.expiresAt <= this.#now()) return undefined;
    return this.#session(key, record);
  }

  async signOut(request: Request): Promise<Response> {
    if (request.method !== "POST") {
      const headers = baseHeaders();
      headers.set("allow", "POST");
      return errorResponse(
        405,
        {
          code: "method_not_allowed",
          message: "signing out takes a POST (a form button), not a link",
        },
        headers,
      );
    }
    const origin = request.headers.get("origin");
    const site = request.headers.get("sec-fetch-site");
    if ((origin && origin !== this.#origin) || site === "cross-site") {
      return errorResponse(403, {
        code: "cross_site_request",
        message: "sign-out must be requested from this site",
      });
    }
    const session = await this.getSession(request);
    if (session) {
      try {
        await this.#tokenSession(session.key, undefined).signOut();
      } catch {
        // The server could not be reached: the session is still ended here,
        // and its tokens are forgotten, as the person asked.
      }
      await this.#options.store.delete(session.key);
    }
    const headers = baseHeaders();
    headers.set("location", this.#afterSignOut);
    headers.append("set-cookie", this.#sessionSetCookie("", 0));
    return new Response(null, { status: 303, headers });
  }

  /**
   * The store key of a session id: its SHA-256, so that what a store holds
   * never works as a cookie. Recent ones are remembered (a bounded map that
   * getSession() reads first): Web Crypto's digest was most of a signed-in
   * request's own cost.
   */
  async #keyOf(id: string): Promise<string> {
    const key = await digest(id);
    if (this.#keys.size >= KEY_CACHE_SIZE) {
      this.#keys.delete(this.#keys.keys().next().value!);
    }
    this.#keys.set(id, key);
    return key;
  }

  #sessionSetCookie(value: string, maxAgeMs: number): string {
    return serializeCookie(this.#sessionCookie, value, {
      path: "/",
      maxAge: maxAgeMs / 1000,
      secure: this.#secure,
      sameSite: "Lax",
    });
  }

  #session(key: string, record: SessionRecord): ServerSession {
    // The TokenSession is made only when needed: a request whose cached
    // token is valid just reads it.
    let session: TokenSession | undefined;
    const tokens = () => (session ??= this.#tokenSession(key, record));
    const valid = () =>
      session === undefined &&
      record.tokens.expiresAt - this.#now() > this.#refreshMargin;
    return {
      key,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      getAccessToken: () =>
        valid()
          ? Promise.resolve(record.tokens.accessToken)
          : tokens().getAccessToken(),
      getTokens: () =>
        valid() ? Promise.resolve(record.tokens) : tokens().getTokens(),
      fetch: (input, init) => tokens().fetch(input, init),
    };
  }

  #tokenSession(key: string, record: SessionRecord | undefined): TokenSession {
    const { server, clientId, redirectUri, refreshMargin, apiUrl } =
      this.#options;
    return new TokenSession({
      ...this.#http(),
      server,
      clientId,
      redirectUri,
      store: new SessionTokens(this.#options.store, key, record),
      now: this.#now,
      ...(refreshMargin === undefined ? {} : { refreshMargin }),
      ...(apiUrl === undefined ? {} : { apiUrl }),
    });
  }

  #http(): HttpOptions {
    return httpOptionsOf(this.#options);
  }
}

/**
 * One session's tokens as the core's `TokenStore`, so that `TokenSession`
 * does the refreshing. The record read by `getSession` serves the first
 * load; loads under the lock read the store again.
 */
class SessionTokens implements TokenStore {
  readonly #store: SessionStore;
  readonly #key: string;
  #primed: SessionRecord | undefined;
  #last: SessionRecord | undefined;

  constructor(store: SessionStore, key: string, record?: SessionRecord) {
    this.#store = store;
    this.#key = key;
    this.#primed = record;
    this.#last = record;
  }

  async load(): Promise<TokenSet | undefined> {
    const primed = this.#primed;
    this.#primed = undefined;
    const record = primed ?? await this.#store.get(this.#key);
    if (record) this.#last = record;
    return record?.tokens;
  }

  async save(tokens: TokenSet): Promise<void> {
    const last = this.#last ?? await this.#store.get(this.#key);
    // A session deleted meanwhile (signed out elsewhere) stays deleted.
    if (!last) return;
    this.#last = { ...last, tokens };
    await this.#store.set(this.#key, this.#last);
  }

  async clear(): Promise<void> {
    this.#last = undefined;
    await this.#store.delete(this.#key);
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    this.#primed = undefined;
    return this.#store.withLock(this.#key, fn);
  }
}

function toPending(value: unknown): PendingSignIn {
  const v = value as Partial<PendingSignIn> | null;
  if (
    typeof v?.s !== "string" || typeof v.v !== "string" ||
    typeof v.r !== "string" || (v.n !== undefined && typeof v.n !== "string")
  ) {
    throw new SignInError("invalid_seal", "the sign-in cookie is malformed", {
      hint: "start the sign-in again from this site",
    });
  }
  return v as PendingSignIn;
}

/**
 * `value` as a path (with query and fragment) on `origin`, or `undefined`
 * when it would lead anywhere else: only `/...` that is not `//...`, no
 * backslashes, no control characters.
 */
function safePath(value: unknown, origin: string): string | undefined {
  if (
    typeof value !== "string" || !value.startsWith("/") ||
    value.startsWith("//") || value.includes("\\") ||
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]/.test(value) || value.length > 2048
  ) {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return undefined;
  }
  if (url.origin !== origin) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

async function digest(text: string): Promise<string> {
  return encodeBase64Url(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", encoder.encode(text)),
    ),
  );
}

function config(message: string): SignInError {
  return new SignInError("invalid_config", message);
}
