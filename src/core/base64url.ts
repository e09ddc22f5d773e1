// base64url without padding (RFC 4648 §5), on btoa/atob so that it runs on
// every platform the pure entry points support. Shared inside the package
// (the server helpers' ids and seals, the CLI's display of an ID token's
// claims), not part of the public API: src/core/mod.ts does not export it.

/** Encodes bytes as base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/**
 * Decodes base64url without padding; `undefined` when malformed (any
 * character outside the alphabet, `=` included, or an impossible length).
 */
export function decodeBase64Url(
  text: string,
): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
