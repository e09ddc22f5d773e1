/**
 * Where a server's endpoints are: Looker's two hosts, explicit endpoints, or
 * RFC 8414 / OpenID Connect discovery.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { OAuthError } from "./errors.ts";
import type { HttpOptions } from "./http_options.ts";
import { parseEndpoint, rootTransportError } from "./transport.ts";
import { transport } from "./_oauth.ts";
// Looker's two hosts need no oauth4webapi: kept apart so that a CLI call
// with a valid token can check a profile's URLs without loading it.
export { lookerServer, type LookerServerOptions } from "./looker_server.ts";

/**
 * Authorization server metadata, named as in RFC 8414 §2.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414.html#section-2
 */
export interface ServerMetadata {
  /** The issuer identifier. For Looker, the UI host's origin. */
  readonly issuer: string;
  /** Where the person is sent to sign in and consent. */
  readonly authorization_endpoint: string;
  /** Where codes and refresh tokens are exchanged for tokens. */
  readonly token_endpoint: string;
  /** RFC 7009 token revocation, when offered. */
  readonly revocation_endpoint?: string;
  /**
   * How clients may authenticate to the revocation endpoint; a public
   * client needs `none`. Read only to explain a refusal: metadata is often
   * inaccurate, so revocation is tried anyway.
   */
  readonly revocation_endpoint_auth_methods_supported?: readonly string[];
  /** OpenID Connect UserInfo, when offered. */
  readonly userinfo_endpoint?: string;
  /** PKCE methods offered; S256 is required by this library. */
  readonly code_challenge_methods_supported?: readonly string[];
  /** RFC 9207: the server puts `iss` in every authorization response. */
  readonly authorization_response_iss_parameter_supported?: boolean;
  /** Any other metadata the server published. */
  readonly [parameter: string]: unknown;
}

/** A Looker instance's two hosts. */
export interface LookerHosts {
  /** The UI host, which serves `/auth`, e.g. `https://example.looker.com`. */
  readonly lookerUrl: string;
  /**
   * The API host, which serves `/api/token` and the API, e.g.
   * `https://example.looker.com:19999`.
   */
  readonly apiUrl: string;
}

/** An authorization server: where to send the person, where to get tokens. */
export interface AuthServer {
  /** The server's endpoints. */
  readonly metadata: ServerMetadata;
  /** Set when the server is a Looker instance. */
  readonly looker?: LookerHosts;
  /** `http:` endpoints on non-loopback hosts were explicitly allowed. */
  readonly allowInsecureHttp: boolean;
  /**
   * How token requests carry their parameters: `form`
   * (`application/x-www-form-urlencoded`, RFC 6749 §4.1.3, the default) or
   * `json` (`application/json`, as Looker's browser examples and the
   * official Looker SDK send them).
   */
  readonly tokenRequestBody?: TokenRequestBody;
}

/** How token requests carry their parameters: see {@linkcode AuthServer}. */
export type TokenRequestBody = "form" | "json";

/** Options for {@linkcode oauthServer}. */
export interface OAuthServerOptions {
  /** The issuer identifier; defaults to the authorization endpoint's origin. */
  issuer?: string;
  /** The authorization endpoint URL. */
  authorizationEndpoint: string | URL;
  /** The token endpoint URL. */
  tokenEndpoint: string | URL;
  /** The RFC 7009 revocation endpoint URL, if any. */
  revocationEndpoint?: string | URL;
  /** The server sends `iss` in authorization responses (RFC 9207). */
  issParameterSupported?: boolean;
  /** Accept `http:` on hosts that are not loopback. Default `false`. */
  allowInsecureHttp?: boolean;
}

/**
 * Describes any OAuth 2.0 server from explicit endpoints, for servers that
 * publish no metadata.
 *
 * @param options The endpoints.
 * @returns The server description.
 * @throws {OAuthError} `invalid_argument` or `insecure_http` for a bad URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oauthServer } from "@looker-oauth/pkce/core";
 *
 * const server = oauthServer({
 *   authorizationEndpoint: "https://id.example.com/authorize",
 *   tokenEndpoint: "https://id.example.com/token",
 * });
 * assert.equal(server.metadata.token_endpoint, "https://id.example.com/token");
 * ```
 */
export function oauthServer(options: OAuthServerOptions): AuthServer {
  const insecure = options.allowInsecureHttp === true;
  const authorization = parseEndpoint(
    options.authorizationEndpoint,
    "the authorization endpoint",
    insecure,
  );
  const token = parseEndpoint(
    options.tokenEndpoint,
    "the token endpoint",
    insecure,
  );
  const metadata: Record<string, unknown> = {
    issuer: options.issuer ?? authorization.origin,
    authorization_endpoint: authorization.href,
    token_endpoint: token.href,
  };
  if (options.revocationEndpoint !== undefined) {
    metadata.revocation_endpoint = parseEndpoint(
      options.revocationEndpoint,
      "the revocation endpoint",
      insecure,
    ).href;
  }
  if (options.issParameterSupported) {
    metadata.authorization_response_iss_parameter_supported = true;
  }
  return {
    metadata: metadata as unknown as ServerMetadata,
    allowInsecureHttp: insecure,
  };
}

/** Options for {@linkcode discover}. */
export interface DiscoverOptions extends HttpOptions {
  /**
   * Which well-known document to read: `oidc`
   * (`/.well-known/openid-configuration`) or `oauth2`
   * (`/.well-known/oauth-authorization-server`). Default: `oidc`, then
   * `oauth2` if the first is not found.
   */
  algorithm?: "oidc" | "oauth2";
  /** Accept `http:` on hosts that are not loopback. Default `false`. */
  allowInsecureHttp?: boolean;
}

/**
 * Reads a server's metadata by OpenID Connect Discovery or RFC 8414, checks
 * that it names the expected issuer and that every endpoint obeys the
 * transport policy.
 *
 * @param issuer The issuer identifier, e.g. `https://accounts.example.com`.
 * @param options Which document to read, and transport options.
 * @returns The server description.
 * @throws {OAuthError} `discovery_failed` when no valid metadata is found;
 *   `insecure_http`, `timeout`, `network_error` as for any request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414.html#section-3
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 *
 * @example
 * ```ts ignore
 * import { discover } from "@looker-oauth/pkce/core";
 *
 * const server = await discover("https://accounts.example.com");
 * console.log(server.metadata.authorization_endpoint);
 * ```
 */
export async function discover(
  issuer: string | URL,
  options: DiscoverOptions = {},
): Promise<AuthServer> {
  const insecure = options.allowInsecureHttp === true;
  const issuerUrl = parseEndpoint(issuer, "the issuer", insecure);
  const algorithms = options.algorithm
    ? [options.algorithm]
    : ["oidc", "oauth2"] as const;
  let last: unknown;
  for (const algorithm of algorithms) {
    try {
      const response = await oauth.discoveryRequest(issuerUrl, {
        algorithm,
        ...transport(issuerUrl, options, insecure),
      });
      if (response.status === 404 && algorithms.length > 1) {
        await response.body?.cancel();
        // Keep an earlier, more telling failure (an issuer mismatch).
        last ??= new OAuthError(
          "discovery_failed",
          `${issuerUrl.host} has no OpenID configuration`,
          { status: 404 },
        );
        continue;
      }
      const as = await oauth.processDiscoveryResponse(issuerUrl, response);
      return fromMetadata(as as unknown as ServerMetadata, insecure);
    } catch (err) {
      const failure = rootTransportError(err);
      if (failure && failure.code !== "response_too_large") throw failure;
      if (err instanceof OAuthError) throw err;
      last = err;
    }
  }
  if (last instanceof OAuthError) {
    throw new OAuthError(
      "discovery_failed",
      `no authorization server metadata found for ${issuerUrl.href}`,
      {
        cause: last,
        hint:
          "check the issuer URL; it must serve /.well-known/openid-configuration or /.well-known/oauth-authorization-server",
      },
    );
  }
  throw new OAuthError(
    "discovery_failed",
    `the metadata of ${issuerUrl.href} is not usable: ${messageOf(last)}`,
    { cause: last, hint: "check the issuer URL" },
  );
}

function fromMetadata(metadata: ServerMetadata, insecure: boolean): AuthServer {
  for (
    const key of [
      "authorization_endpoint",
      "token_endpoint",
      "revocation_endpoint",
      "userinfo_endpoint",
    ] as const
  ) {
    const value = metadata[key];
    if (value === undefined) {
      if (key === "authorization_endpoint" || key === "token_endpoint") {
        throw new OAuthError(
          "discovery_failed",
          `the server's metadata has no ${key}`,
        );
      }
      continue;
    }
    if (typeof value !== "string") {
      throw new OAuthError(
        "discovery_failed",
        `the server's ${key} is not a string`,
      );
    }
    parseEndpoint(value, `the server's ${key}`, insecure);
  }
  return { metadata, allowInsecureHttp: insecure };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
