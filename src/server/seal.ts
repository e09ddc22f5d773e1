/**
 * Sealed values: small JSON payloads encrypted and authenticated with
 * AES-256-GCM under keys derived (HKDF-SHA-256) from configured secrets, with
 * an expiry inside. The sign-in cookie rides on them.
 *
 * @module
 */
import { decodeBase64Url, encodeBase64Url } from "../core/base64url.ts";
import { SignInError } from "./errors.ts";

/** The fewest bytes a cookie secret may have. */
export const MIN_SECRET_BYTES = 32;

const VERSION = 1;
const KID_BYTES = 4;
const IV_BYTES = 12;
const HEADER_BYTES = 1 + KID_BYTES + IV_BYTES;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options for {@linkcode Sealer.seal}. */
export interface SealOptions {
  /**
   * What the value is for, e.g. the cookie's name. It is authenticated with
   * the value: a value sealed for one purpose does not unseal for another.
   */
  purpose: string;
  /** How long the value stays valid, in milliseconds. */
  maxAge: number;
}

/** Options for {@linkcode Sealer.unseal}. */
export interface UnsealOptions {
  /** The purpose the value was sealed for. */
  purpose: string;
}

/** Options for the {@linkcode Sealer} constructor. */
export interface SealerOptions {
  /** The clock, in epoch ms; `Date.now` by default. */
  now?: () => number;
}

interface Key {
  readonly kid: Uint8Array;
  readonly key: CryptoKey;
}

/**
 * Seals and unseals values under a list of secrets: the first seals, every
 * one unseals, so a secret can be rotated by putting the new one first and
 * dropping the old one once the longest-lived sealed value it made has
 * expired.
 *
 * Each secret is stretched by HKDF-SHA-256 into an AES-256-GCM key and a
 * 4-byte key id; a sealed value is `base64url(version ‖ key id ‖ 96-bit
 * random IV ‖ ciphertext ‖ tag)`, and the ciphertext holds the JSON value
 * and its expiry. The purpose is the additional authenticated data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sealer } from "@looker-oauth/pkce/server";
 *
 * const sealer = new Sealer(["a secret of at least thirty-two bytes!"]);
 * const sealed = await sealer.seal({ hello: "world" }, {
 *   purpose: "demo",
 *   maxAge: 60_000,
 * });
 * const value = await sealer.unseal(sealed, { purpose: "demo" });
 * assert.deepEqual(value, { hello: "world" });
 * ```
 *
 * @see https://www.rfc-editor.org/rfc/rfc5869.html
 */
export class Sealer {
  readonly #secrets: readonly string[];
  readonly #now: () => number;
  #keys: Promise<readonly Key[]> | undefined;

  /**
   * Checks the secrets; keys are derived on first use.
   *
   * @param secrets One secret, or a list: the first seals, all unseal.
   * @param options The clock.
   * @throws {SignInError} `weak_secret` when there is no secret, or one has
   *   fewer than {@linkcode MIN_SECRET_BYTES} bytes (UTF-8).
   */
  constructor(
    secrets: string | readonly string[],
    options: SealerOptions = {},
  ) {
    this.#secrets = checkSecrets(secrets);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Seals a value.
   *
   * @param value Anything `JSON.stringify` keeps.
   * @param options The purpose and lifetime.
   * @returns The sealed value, base64url (cookie-safe).
   * @throws {SignInError} `invalid_config` for a lifetime that is not a
   *   positive number.
   */
  async seal(value: unknown, options: SealOptions): Promise<string> {
    if (!(options.maxAge > 0) || !Number.isFinite(options.maxAge)) {
      throw new SignInError(
        "invalid_config",
        "a sealed value needs a positive maxAge",
      );
    }
    const [first] = await this.#derive();
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const plaintext = encoder.encode(
      JSON.stringify({ e: this.#now() + options.maxAge, v: value }),
    );
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: "AES-GCM",
          iv,
          additionalData: encoder.encode(options.purpose),
        },
        first!.key,
        plaintext,
      ),
    );
    const out = new Uint8Array(HEADER_BYTES + ciphertext.length);
    out[0] = VERSION;
    out.set(first!.kid, 1);
    out.set(iv, 1 + KID_BYTES);
    out.set(ciphertext, HEADER_BYTES);
    return encodeBase64Url(out);
  }

  /**
   * Unseals a value sealed by any of the configured secrets.
   *
   * @param sealed What {@linkcode Sealer.seal} returned.
   * @param options The purpose it was sealed for.
   * @returns The value.
   * @throws {SignInError} `invalid_seal` when it is malformed, altered,
   *   sealed for another purpose or under an unknown secret;
   *   `expired_seal` when its lifetime is over.
   */
  async unseal(sealed: string, options: UnsealOptions): Promise<unknown> {
    const bytes = typeof sealed === "string" && sealed.length < 8192
      ? decodeBase64Url(sealed)
      : undefined;
    if (!bytes || bytes.length < HEADER_BYTES + 16 || bytes[0] !== VERSION) {
      throw invalid();
    }
    const kid = bytes.subarray(1, 1 + KID_BYTES);
    const key = (await this.#derive()).find((k) => sameBytes(k.kid, kid));
    if (!key) throw invalid();
    let plaintext: ArrayBuffer;
    try {
      plaintext = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: bytes.subarray(1 + KID_BYTES, HEADER_BYTES),
          additionalData: encoder.encode(options.purpose),
        },
        key.key,
        bytes.subarray(HEADER_BYTES),
      );
    } catch {
      throw invalid();
    }
    let payload: { e?: unknown; v?: unknown };
    try {
      payload = JSON.parse(decoder.decode(plaintext));
    } catch {
      throw invalid();
    }
    if (typeof payload?.e !== "number") throw invalid();
    if (payload.e <= this.#now()) {
      throw new SignInError("expired_seal", "the sealed value has expired", {
        hint: "start again",
      });
    }
    return payload.v;
  }

  #derive(): Promise<readonly Key[]> {
    this.#keys ??= Promise.all(this.#secrets.map(deriveKey));
    return this.#keys;
  }
}

function checkSecrets(secrets: string | readonly string[]): readonly string[] {
  const list = typeof secrets === "string" ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0) {
    throw new SignInError("weak_secret", "a cookie secret is required", {
      hint:
        `set a random secret of at least ${MIN_SECRET_BYTES} bytes, e.g. from \`openssl rand -base64 32\``,
    });
  }
  for (const [i, secret] of list.entries()) {
    if (
      typeof secret !== "string" ||
      encoder.encode(secret).length < MIN_SECRET_BYTES
    ) {
      throw new SignInError(
        "weak_secret",
        `cookie secret ${
          i + 1
        } of ${list.length} is shorter than ${MIN_SECRET_BYTES} bytes`,
        {
          hint:
            `use a random secret of at least ${MIN_SECRET_BYTES} bytes, e.g. from \`openssl rand -base64 32\``,
        },
      );
    }
  }
  return [...list];
}

async function deriveKey(secret: string): Promise<Key> {
  const ikm = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    "HKDF",
    false,
    ["deriveKey", "deriveBits"],
  );
  const salt = encoder.encode("looker-oauth sealed values v1");
  const key = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt,
      info: encoder.encode("aes-256-gcm key"),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const kid = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt, info: encoder.encode("key id") },
      ikm,
      KID_BYTES * 8,
    ),
  );
  return { kid, key };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function invalid(): SignInError {
  return new SignInError(
    "invalid_seal",
    "the sealed value is not valid: altered, or sealed under another secret",
    { hint: "start again" },
  );
}
