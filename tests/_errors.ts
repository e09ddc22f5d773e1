/**
 * Test helper: predicates for `assert.throws` / `assert.rejects` that check
 * the error's class and code.
 *
 * @module
 */
import assert from "node:assert/strict";
import { OAuthError, type OAuthErrorCode } from "../src/core/mod.ts";
import { LoginError, type LoginErrorCode } from "../src/loopback/errors.ts";

/** Asserts an `OAuthError` with `code`. */
export function oauthErrorWith(
  code: OAuthErrorCode,
): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof OAuthError, `not an OAuthError: ${err}`);
    assert.equal(err.code, code);
    return true;
  };
}

/** Asserts a `LoginError` with `code`. */
export function loginErrorWith(
  code: LoginErrorCode,
): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof LoginError, `not a LoginError: ${err}`);
    assert.equal(err.code, code);
    return true;
  };
}

/**
 * `fails(code, status)` for a test whose requests carry `secrets`: asserts an
 * `OAuthError` with `code` (and `status`) that shows none of the secrets in
 * its message, hint, error, description or anywhere a logger would print.
 */
export function failsHiding(
  secrets: readonly string[],
): (code: OAuthErrorCode, status?: number) => (err: unknown) => boolean {
  return (code, status) => (err) => {
    assert.ok(err instanceof OAuthError, `not an OAuthError: ${err}`);
    assert.equal(err.code, code, err.message);
    if (status !== undefined) assert.equal(err.status, status);
    const shown = [
      err.message,
      err.hint ?? "",
      err.errorDescription ?? "",
      err.error ?? "",
      Deno.inspect(err, { depth: 10 }),
    ].join("\n");
    for (const secret of secrets) {
      assert.ok(!shown.includes(secret), `the error shows ${secret}`);
    }
    return true;
  };
}
