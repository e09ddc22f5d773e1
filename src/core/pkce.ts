/**
 * PKCE (RFC 7636): code verifiers, S256 challenges, and `state` values.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { OAuthError } from "./errors.ts";

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Makes a fresh PKCE code verifier: 32 random bytes, base64url, 43 characters
 * of the unreserved set.
 *
 * @returns The verifier; keep it secret until the code exchange.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636.html#section-4.1
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateCodeVerifier } from "@looker-oauth/pkce/core";
 *
 * const verifier = generateCodeVerifier();
 * assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
 * ```
 */
export function generateCodeVerifier(): string {
  return oauth.generateRandomCodeVerifier();
}

/**
 * Computes the S256 code challenge of a verifier. `plain` is never used.
 *
 * @param codeVerifier A verifier of 43 to 128 unreserved characters.
 * @returns `BASE64URL(SHA256(ASCII(codeVerifier)))`.
 * @throws {OAuthError} `invalid_argument` when the verifier breaks RFC 7636 §4.1.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636.html#section-4.2
 *
 * @example RFC 7636 Appendix B
 * ```ts
 * import assert from "node:assert/strict";
 * import { calculateCodeChallenge } from "@looker-oauth/pkce/core";
 *
 * const challenge = await calculateCodeChallenge(
 *   "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
 * );
 * assert.equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
 * ```
 */
export async function calculateCodeChallenge(
  codeVerifier: string,
): Promise<string> {
  if (typeof codeVerifier !== "string" || !VERIFIER.test(codeVerifier)) {
    throw new OAuthError(
      "invalid_argument",
      "a PKCE code verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
    );
  }
  return await oauth.calculatePKCECodeChallenge(codeVerifier);
}

/**
 * Makes a fresh `state` value: 32 random bytes (256 bits), base64url.
 *
 * @returns The state to send and to expect back.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749.html#section-10.12
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateState } from "@looker-oauth/pkce/core";
 *
 * assert.match(generateState(), /^[A-Za-z0-9_-]{43}$/); // 256 random bits
 * ```
 */
export function generateState(): string {
  return oauth.generateRandomState();
}
