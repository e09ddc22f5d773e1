/**
 * Signing out on the server: Looker's logout, or RFC 7009 revocation.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import type { HttpOptions } from "./http_options.ts";
import { assertClientId, bearerHeader, boundedFetch } from "./transport.ts";
import { toAs, toClient, transport } from "./_oauth.ts";
import { errorFromProcessing, errorFromResponse } from "./_token_errors.ts";
import type { AuthServer } from "./server.ts";
import type { TokenSet } from "./token.ts";

/** What {@linkcode revokeTokens} needs. */
export interface TokenRevocation extends HttpOptions {
  /** The client id the tokens were issued to. */
  clientId: string;
  /** The tokens to end. */
  tokens: TokenSet;
}

/**
 * Ends the grant on the server.
 *
 * - Looker: `DELETE {api}/api/4.0/logout` with the access token, which also
 *   kills the refresh token. The access token must still be valid.
 * - Other servers: RFC 7009 revocation of the refresh token, then the access
 *   token, when the server advertises a `revocation_endpoint`.
 *
 * @param server Where the tokens came from.
 * @param revocation Client id, tokens, transport options.
 * The client is public: RFC 7009 §2.1 lets it revoke with its `client_id`
 * alone, which is what is sent. A server that does not allow that answers
 * `invalid_client` (its `revocation_endpoint_auth_methods_supported` then
 * usually lacks `none`).
 *
 * @returns `true` when the server confirmed; `false` when it offers no way to
 *   revoke (the caller should still forget the tokens).
 * @throws {OAuthError} `invalid_grant` when Looker refuses the access token
 *   (refresh it, then try again); `invalid_client` when the revocation
 *   endpoint refuses this client (401, or 400 `invalid_client`);
 *   `server_error`, `timeout`, `network_error`, `token_endpoint_error`
 *   otherwise.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009.html#section-2
 *
 * @example
 * ```ts ignore
 * import {
 *   type AuthServer,
 *   revokeTokens,
 *   type TokenSet,
 * } from "@looker-oauth/pkce/core";
 *
 * declare const server: AuthServer; // lookerServer(), oauthServer() or discover()
 * declare const tokens: TokenSet; // from exchangeCode()
 * await revokeTokens(server, { clientId: "my-app", tokens });
 * ```
 */
export async function revokeTokens(
  server: AuthServer,
  revocation: TokenRevocation,
): Promise<boolean> {
  assertClientId(revocation.clientId);
  const { tokens } = revocation;
  const secrets = [tokens.accessToken, tokens.refreshToken];
  if (server.looker) {
    const response = await boundedFetch(revocation)(
      `${server.looker.apiUrl}/api/4.0/logout`,
      {
        method: "DELETE",
        headers: { authorization: bearerHeader(tokens.accessToken) },
      },
    );
    if (!response.ok) {
      throw await errorFromResponse(server, response, "logout", secrets);
    }
    await response.body?.cancel();
    return true;
  }
  const endpoint = server.metadata.revocation_endpoint;
  if (endpoint === undefined) return false;
  const as = toAs(server);
  const client = toClient(revocation.clientId);
  const pairs: [string, string][] = [];
  if (tokens.refreshToken) pairs.push([tokens.refreshToken, "refresh_token"]);
  pairs.push([tokens.accessToken, "access_token"]);
  for (const [token, hint] of pairs) {
    let response: Response;
    try {
      response = await oauth.revocationRequest(
        as,
        client,
        oauth.None(),
        token,
        {
          additionalParameters: { token_type_hint: hint },
          ...transport(endpoint, revocation, server.allowInsecureHttp),
        },
      );
    } catch (err) {
      throw errorFromProcessing(err, "revoke");
    }
    if (!response.ok) {
      const error = await errorFromResponse(
        server,
        response,
        "revoke",
        secrets,
      );
      // Revoking the refresh token ended the grant; a server that cannot
      // revoke access tokens (RFC 7009 §2.2.1) lets that one expire.
      if (
        hint === "access_token" && pairs.length === 2 &&
        error.error === "unsupported_token_type"
      ) {
        return true;
      }
      throw error;
    }
    await response.body?.cancel();
  }
  return true;
}
