/**
 * The first leg of the authorization code flow: the URL the person opens.
 *
 * @module
 */
import { OAuthError } from "./errors.ts";
import {
  assertClientId,
  parseAbsoluteUrl,
  parseEndpoint,
} from "./transport.ts";
import {
  calculateCodeChallenge,
  generateCodeVerifier,
  generateState,
} from "./pkce.ts";
import type { AuthServer } from "./server.ts";

/** Parameters this library sets itself and callers may not override. */
const RESERVED = new Set([
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
  "nonce",
]);

/** Scope sent to Looker when none is given. */
export const LOOKER_DEFAULT_SCOPE = "cors_api";

/** What {@linkcode startAuthorization} needs. */
export interface AuthorizationRequest {
  /** The client id (Looker: the `client_guid` the app was registered with). */
  clientId: string;
  /** The redirect URI, exactly as registered. */
  redirectUri: string;
  /** Space-separated scopes. Looker default: `cors_api`; others: none. */
  scope?: string;
  /** More parameters, e.g. `prompt` or `login_hint`. */
  extraParams?: Readonly<Record<string, string>>;
}

/** A started authorization: the URL to open, and what to keep until the callback. */
export interface PendingAuthorization {
  /** The authorization URL to open in the browser. */
  readonly url: URL;
  /** The `state` sent; the callback must carry it back. */
  readonly state: string;
  /** The PKCE verifier; needed, and kept secret, until the code exchange. */
  readonly codeVerifier: string;
  /** The redirect URI sent; the code exchange must repeat it. */
  readonly redirectUri: string;
  /**
   * The OpenID Connect `nonce` sent, when the scope includes `openid`; the
   * code exchange checks it in the ID token.
   */
  readonly nonce?: string;
}

/**
 * Builds the authorization URL with a fresh PKCE verifier (S256) and a fresh
 * 256-bit `state`.
 *
 * When the scope includes `openid`, a fresh 256-bit `nonce` is sent too:
 * OpenID Connect makes it optional in the code flow, some servers require
 * it, and {@linkcode exchangeCode} checks it in the ID token, so a code
 * obtained for another sign-in is refused.
 *
 * @param server Where to sign in.
 * @param request Client id, redirect URI, scope, extra parameters.
 * @returns The URL to open, with the `state` and verifier to keep.
 * @throws {OAuthError} `invalid_argument` for a missing client id, a bad
 *   redirect URI or an extra parameter that would override a reserved one;
 *   `insecure_http` for an `http:` redirect URI off loopback; `unsupported`
 *   when the server does not offer S256.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc7636.html#section-4.3
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookerServer, startAuthorization } from "@looker-oauth/pkce/core";
 *
 * const server = lookerServer({ lookerUrl: "https://example.looker.com" });
 * const { url, state, codeVerifier } = await startAuthorization(server, {
 *   clientId: "my-app",
 *   redirectUri: "http://localhost:8080/callback",
 * });
 * assert.equal(url.searchParams.get("scope"), "cors_api");
 * assert.equal(url.searchParams.get("state"), state);
 * assert.equal(url.searchParams.get("code_challenge_method"), "S256");
 * assert.ok(!url.href.includes(codeVerifier)); // the verifier stays here
 * ```
 */
export async function startAuthorization(
  server: AuthServer,
  request: AuthorizationRequest,
): Promise<PendingAuthorization> {
  assertClientId(request.clientId);
  const redirectUri = checkRedirectUri(request.redirectUri, server);
  // A list without S256 is believed; a malformed value (not a list) is
  // ignored, as if absent: S256 is sent either way.
  const methods = server.metadata.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes("S256")) {
    throw new OAuthError(
      "unsupported",
      "the server does not offer S256 PKCE, and plain PKCE is not used",
    );
  }
  const url = parseEndpoint(
    server.metadata.authorization_endpoint,
    "the authorization endpoint",
    server.allowInsecureHttp,
  );
  const state = generateState();
  const codeVerifier = generateCodeVerifier();
  const challenge = await calculateCodeChallenge(codeVerifier);
  const scope = request.scope ??
    (server.looker ? LOOKER_DEFAULT_SCOPE : undefined);

  const params = url.searchParams;
  params.set("response_type", "code");
  params.set("client_id", request.clientId);
  params.set("redirect_uri", redirectUri);
  if (scope) params.set("scope", scope);
  params.set("state", state);
  params.set("code_challenge", challenge);
  params.set("code_challenge_method", "S256");
  const nonce = scope?.split(" ").includes("openid")
    ? generateState()
    : undefined;
  if (nonce !== undefined) params.set("nonce", nonce);
  for (const [name, value] of Object.entries(request.extraParams ?? {})) {
    if (RESERVED.has(name)) {
      throw new OAuthError(
        "invalid_argument",
        `the parameter ${name} is set by startAuthorization() and cannot be overridden`,
      );
    }
    if (typeof value !== "string") {
      throw new OAuthError(
        "invalid_argument",
        `the parameter ${name} must be a string`,
      );
    }
    params.set(name, value);
  }
  return {
    url,
    state,
    codeVerifier,
    redirectUri,
    ...(nonce === undefined ? {} : { nonce }),
  };
}

/**
 * Checks a redirect URI: absolute, no fragment, `https:`, or `http:` on a
 * loopback host (RFC 8252 §7.3), or a private-use scheme (RFC 8252 §7.1).
 */
function checkRedirectUri(value: string, server: AuthServer): string {
  const url = parseAbsoluteUrl(
    value,
    "the redirect URI",
    "use the redirect URI registered for the app, e.g. http://localhost:8080/callback",
  );
  if (url.hash) {
    throw new OAuthError(
      "invalid_argument",
      "the redirect URI must not contain a fragment",
    );
  }
  if (url.protocol === "http:" || url.protocol === "https:") {
    parseEndpoint(url, "the redirect URI", server.allowInsecureHttp);
  } else if (/^(?:javascript|data|file|vbscript|blob):$/.test(url.protocol)) {
    throw new OAuthError(
      "invalid_argument",
      `the redirect URI cannot use ${url.protocol}`,
    );
  }
  return value;
}
