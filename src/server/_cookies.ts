// Cookie header parsing and Set-Cookie serialising (RFC 6265), just what the
// helpers need.

/** Attributes of a cookie the helpers set. */
export interface CookieAttributes {
  readonly path: string;
  readonly maxAge: number; // seconds; 0 clears
  readonly secure: boolean;
  readonly sameSite: "Lax" | "Strict";
}

/** The value of cookie `name` in a request, or `undefined`. */
export function readCookie(headers: Headers, name: string): string | undefined {
  const header = headers.get("cookie");
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    // Two cookies of one name (another path, or planted by a sibling
    // domain): trust neither.
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

/** A `Set-Cookie` header value. */
export function serializeCookie(
  name: string,
  value: string,
  attributes: CookieAttributes,
): string {
  let out = `${name}=${value}; Path=${attributes.path}; Max-Age=${
    Math.floor(attributes.maxAge)
  }; HttpOnly; SameSite=${attributes.sameSite}`;
  if (attributes.secure) out += "; Secure";
  return out;
}
