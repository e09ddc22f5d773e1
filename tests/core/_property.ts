/**
 * Test helper for the property tests: generated secrets, and what every
 * error they provoke must look like.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { OAUTH_ERROR_CODES, OAuthError } from "../../src/core/mod.ts";

const BASE64URL =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Strings of `min` to `max` base64url characters (no padding). */
export function base64url(min: number, max: number): fc.Arbitrary<string> {
  return fc.string({
    unit: fc.constantFrom(...BASE64URL),
    minLength: min,
    maxLength: max,
  });
}

/** What the library shows in place of a secret. */
export const REDACTED = "[redacted]";

/** The placeholder a leaked value is replaced with: a character not in it. */
export function placeholder(value: string): string {
  return value.includes("\uE000") ? "\uE001" : "\uE000";
}

/**
 * Asserts `err` is an `OAuthError` with a known code, a message, and a hint,
 * error and description that are strings where present.
 *
 * @param threw How the failure began, e.g. `parseCallback() threw`.
 */
export function assertWellFormedOAuthError(
  err: unknown,
  threw: string,
): asserts err is OAuthError {
  if (!(err instanceof OAuthError)) {
    assert.fail(
      `${threw} ${
        err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      }, not an OAuthError`,
    );
  }
  assert.ok(
    (OAUTH_ERROR_CODES as readonly string[]).includes(err.code),
    `unknown code ${err.code}`,
  );
  assert.equal(typeof err.message, "string");
  for (const field of ["hint", "error", "errorDescription"] as const) {
    assert.ok(
      err[field] === undefined || typeof err[field] === "string",
      `${field} is a ${typeof err[field]}`,
    );
  }
}
