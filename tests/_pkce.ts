/**
 * Test helper: RFC 7636 S256, written here on its own (not the library's) so
 * that the tests check the library and the emulator against it.
 *
 * @module
 */

/** Bytes as base64url without padding. */
export function base64urlEncode(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}

/** The S256 code challenge of `verifier`. */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(verifier),
  );
  return base64urlEncode(new Uint8Array(digest));
}
