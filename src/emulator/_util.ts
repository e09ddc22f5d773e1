// Private helpers for the Looker emulator: randomness, PKCE, bodies and
// responses. Web platform only; nothing here imports from src/core, so the
// emulator checks the client independently.

/** Where Looker's error bodies point. */
export const DOCS_URL = "https://cloud.google.com/looker/docs/";

/** Encodes bytes as base64url without padding (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** A fresh random token of `bytes` random bytes, base64url. */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A fresh random string of letters and digits, like Looker's API3 keys. */
export function randomAlnum(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
      if (byte < 248 && out.length < length) out += ALNUM[byte % 62];
    }
  }
  return out;
}

/** RFC 7636 §4.1: what a code verifier may look like. */
export const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * An S256 challenge as Looker takes it: RFC 7636 §4.2's 43 base64url
 * characters, the same with the `=` padding the TypeScript SDK leaves on, or
 * the 64 hex digits of the digest the Python SDK sends.
 */
export const S256_CHALLENGE = /^(?:[A-Za-z0-9_-]{43}=?|[0-9A-Fa-f]{64})$/;

/** `BASE64URL(SHA256(ASCII(verifier)))`, computed here with Web Crypto. */
export async function s256(verifier: string): Promise<string> {
  return base64url(await sha256(verifier));
}

/**
 * Whether `verifier` matches an {@linkcode S256_CHALLENGE} in any of its
 * spellings (compared without stopping at the first difference).
 */
export async function matchesChallenge(
  verifier: string,
  challenge: string,
): Promise<boolean> {
  const digest = await sha256(verifier);
  if (/^[0-9A-Fa-f]{64}$/.test(challenge)) {
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    return sameString(hex, challenge.toLowerCase());
  }
  return sameString(base64url(digest), challenge.replace(/=$/, ""));
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
}

/** Compares two strings without stopping at the first difference. */
export function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

/** Looker's API error shape: `{message, documentation_url}`. */
export function apiError(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Response {
  return json(status, { message, ...extra, documentation_url: DOCS_URL });
}

/** Looker's 404 for any unknown API path. */
export function apiNotFound(): Response {
  return apiError(404, "Not found");
}

/** The token endpoint's error shape: `{error, error_description}`. */
export function tokenError(
  error: string,
  description: string,
  status = error === "invalid_client" ? 401 : 400,
): Response {
  return json(status, { error, error_description: description }, {
    pragma: "no-cache",
  });
}

/** A parsed request body: one value per name, or why it could not be read. */
export type Params =
  | { ok: true; values: Map<string, string> }
  | { ok: false; reason: string };

/**
 * Reads an `application/x-www-form-urlencoded` or `application/json` body
 * into name → value. A repeated name, a nested JSON value or another media
 * type is refused.
 */
export async function readParams(request: Request): Promise<Params> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!
    .trim().toLowerCase();
  let text: string;
  try {
    text = await request.text();
  } catch {
    return { ok: false, reason: "the request body could not be read" };
  }
  const values = new Map<string, string>();
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, reason: "the JSON body is not valid JSON" };
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      return { ok: false, reason: "the JSON body must be an object" };
    }
    for (const [name, value] of Object.entries(parsed)) {
      if (value === null || value === undefined) continue;
      if (
        typeof value === "string" || typeof value === "number" ||
        typeof value === "boolean"
      ) {
        values.set(name, String(value));
      } else {
        return { ok: false, reason: `${name} must be a string` };
      }
    }
    return { ok: true, values };
  }
  if (type === "application/x-www-form-urlencoded" || type === "") {
    for (const [name, value] of new URLSearchParams(text)) {
      if (values.has(name)) {
        return { ok: false, reason: `${name} is repeated` };
      }
      values.set(name, value);
    }
    return { ok: true, values };
  }
  return {
    ok: false,
    reason:
      `the body must be application/x-www-form-urlencoded or application/json, not ${type}`,
  };
}

/** Reads a JSON object body, or says why it is not one. */
export async function readJsonObject(
  request: Request,
): Promise<Record<string, unknown> | string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await request.text());
  } catch {
    return "the body is not valid JSON";
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return "the body must be a JSON object";
  }
  return parsed as Record<string, unknown>;
}

/** Reads the cookies a request sends. */
export function cookiesOf(request: Request): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 1) continue;
    cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * Appends parameters to a redirect URI the way Looker does: a successful
 * answer reads `?&code=...&state=...` (note the `&`).
 */
export function withParams(
  redirectUri: string,
  params: Record<string, string | undefined>,
  leadingAmpersand: boolean,
): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) query.append(name, value);
  }
  const separator = redirectUri.includes("?")
    ? "&"
    : leadingAmpersand
    ? "?&"
    : "?";
  return `${redirectUri}${separator}${query}`;
}
