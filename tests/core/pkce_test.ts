import assert from "node:assert/strict";
import {
  calculateCodeChallenge,
  generateCodeVerifier,
  generateState,
  OAuthError,
} from "../../src/core/mod.ts";

const UNRESERVED_43 = /^[A-Za-z0-9\-._~]{43}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

Deno.test("calculateCodeChallenge() matches the RFC 7636 Appendix B vector", async () => {
  assert.equal(
    await calculateCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

Deno.test("calculateCodeChallenge() accepts 43 and 128 characters of every unreserved kind", async () => {
  const min = "aZ09-._~".repeat(6).slice(0, 43);
  const max = "aZ09-._~".repeat(16);
  assert.equal(max.length, 128);
  for (const verifier of [min, max]) {
    const challenge = await calculateCodeChallenge(verifier);
    assert.match(challenge, BASE64URL);
    assert.equal(challenge.length, 43); // SHA-256, base64url, no padding
  }
});

Deno.test("generateCodeVerifier() returns 43 unreserved characters", () => {
  const verifier = generateCodeVerifier();
  assert.match(verifier, UNRESERVED_43);
});

Deno.test("generateCodeVerifier() returns a fresh verifier on every call", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) seen.add(generateCodeVerifier());
  assert.equal(seen.size, 100);
});

Deno.test("generateCodeVerifier() output is a valid calculateCodeChallenge() input", async () => {
  const challenge = await calculateCodeChallenge(generateCodeVerifier());
  assert.match(challenge, BASE64URL);
});

Deno.test("calculateCodeChallenge() rejects a verifier shorter than 43 characters", async () => {
  await assert.rejects(
    async () => await calculateCodeChallenge("a".repeat(42)),
    (err) => err instanceof OAuthError && err.code === "invalid_argument",
  );
  await assert.rejects(
    async () => await calculateCodeChallenge(""),
    (err) => err instanceof OAuthError && err.code === "invalid_argument",
  );
});

Deno.test("calculateCodeChallenge() rejects a verifier longer than 128 characters", async () => {
  await assert.rejects(
    async () => await calculateCodeChallenge("a".repeat(129)),
    (err) => err instanceof OAuthError && err.code === "invalid_argument",
  );
});

Deno.test("calculateCodeChallenge() rejects characters outside the unreserved set", async () => {
  const base = "a".repeat(42);
  for (const bad of ["+", "/", "=", " ", "%", "é", "\n", "!"]) {
    await assert.rejects(
      async () => await calculateCodeChallenge(base + bad),
      (err) => err instanceof OAuthError && err.code === "invalid_argument",
      `accepted ${JSON.stringify(bad)}`,
    );
  }
});

Deno.test("calculateCodeChallenge() rejects a non-string verifier", async () => {
  await assert.rejects(
    async () => await calculateCodeChallenge(undefined as unknown as string),
    (err) => err instanceof OAuthError && err.code === "invalid_argument",
  );
});

Deno.test("calculateCodeChallenge() errors never quote the verifier", async () => {
  const verifier = "secretVerifierValue".repeat(7); // 133 characters
  try {
    await calculateCodeChallenge(verifier);
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof OAuthError);
    assert.ok(!err.message.includes("secretVerifierValue"));
    assert.ok(!(err.hint ?? "").includes("secretVerifierValue"));
  }
});

Deno.test("generateState() carries at least 128 bits of base64url", () => {
  const state = generateState();
  assert.match(state, BASE64URL);
  // 6 bits per base64url character.
  assert.ok(state.length * 6 >= 128, `state too short: ${state.length}`);
});

Deno.test("generateState() returns a fresh state on every call", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) seen.add(generateState());
  assert.equal(seen.size, 100);
});

Deno.test("generateState() and generateCodeVerifier() never coincide", () => {
  assert.notEqual(generateState(), generateCodeVerifier());
});
