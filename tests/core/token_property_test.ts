// Property tests for the token leg: exchangeCode() and refreshTokens() against
// generated token-endpoint answers (random JSON shapes, fields of random
// types, statuses, content types, bodies that are not JSON), all served by one
// real loopback server that answers whatever the current case says.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type AuthServer,
  exchangeCode,
  lookerServer,
  type OAuthError,
  oauthServer,
  refreshTokens,
  type TokenSet,
} from "../../src/core/mod.ts";
import { DEFAULT_EXPIRES_IN } from "../../src/core/token.ts";
import {
  assertWellFormedOAuthError,
  base64url,
  placeholder,
  REDACTED,
} from "./_property.ts";

const CLIENT_ID = "looker-oauth-property-client";
const REDIRECT = "http://localhost:8080/callback";

// --- generated answers ------------------------------------------------------

/** What the token endpoint answers. */
interface Reply {
  status: number;
  contentType: string | null;
  body: string;
}

/** Stand-ins for the secrets, replaced once a case's secrets are known. */
const SECRET_SLOTS = [
  "{CODE}",
  "{VERIFIER}",
  "{REFRESH}",
  "{OLD_ACCESS}",
  "{ACCESS}",
  "{NEW_REFRESH}",
] as const;

type BodySpec =
  | { kind: "object"; value: Record<string, unknown> }
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string };

interface ReplySpec {
  status: number;
  contentType: string | null;
  body: BodySpec;
}

interface Case {
  reply: ReplySpec;
  looker: boolean;
  /** The code and verifier sent (exchange), the tokens held (refresh). */
  code: string;
  verifier: string;
  refreshToken: string;
  accessToken: string;
  oldScope: string | null;
  /** The local clock when the answer arrives. */
  now: number;
}

/** A secret that cannot occur in the library's own wording by chance. */
const secret = base64url(16, 48);

/** Any JSON value, built from random objects or from anything. */
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.anything({ maxDepth: 2, maxKeys: 3 }).map((value) => {
    const text = JSON.stringify(value);
    return text === undefined ? null : JSON.parse(text);
  }),
);

const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    "",
    null,
    0,
    -1,
    1.5,
    true,
    false,
    [],
    {},
    ["a"],
    { toString: "x" },
    "NaN",
    "Infinity",
    "undefined",
  ),
  jsonish,
);

const token: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: secret },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 24 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(" ", "null", "0", "[redacted]", "\u0000\u001b"),
  },
);

/** A token a server may issue: 1*VSCHAR (RFC 6749 Appendix A). */
const validToken: fc.Arbitrary<string> = token.filter((t) => isVschar(t));

const expiresIn: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: -100_000, max: -1 }) },
  { weight: 1, arbitrary: fc.double() }, // NaN and ±Infinity become null
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      1e308,
      Number.MAX_VALUE,
      1e16,
      8.64e12,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 1,
      1e-7,
      -0,
      0,
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "3600",
      "0",
      "-1",
      "-0",
      "NaN",
      "Infinity",
      "-Infinity",
      "1e308",
      "1e999",
      "abc",
      "",
      " 60",
      "0x10",
      "3600.5",
      "１２",
    ),
  },
  { weight: 1, arbitrary: weird },
);

/** Free text, sometimes holding a secret. */
const prose: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(...SECRET_SLOTS),
      fc.string({ maxLength: 12 }),
      fc.constantFrom("", ...SECRET_SLOTS),
    ).map((parts) => parts.join("")),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "Failed Basic Authentication",
      "redirect_uri does not match",
      "the code {CODE} has expired",
      "refresh token {REFRESH} revoked",
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 300, max: 5_000 }).map((n) =>
      `{ACCESS}${"x".repeat(n)}{CODE}`
    ),
  },
);

const errorValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "invalid_grant",
      "invalid_request",
      "invalid_client",
      "unauthorized_client",
      "redirect_uri_mismatch",
      "unsupported_grant_type",
      "server_error",
      "Failed Basic Authentication",
      "__proto__",
      "constructor",
      "",
    ),
  },
  { weight: 2, arbitrary: prose },
  { weight: 1, arbitrary: weird },
);

const optional = <T>(arb: fc.Arbitrary<T>, absentOneIn: number) =>
  fc.option(arb, { nil: undefined, freq: absentOneIn });

const tokenFields = fc.record({
  access_token: optional(
    fc.oneof({ weight: 6, arbitrary: token }, { weight: 1, arbitrary: weird }),
    12,
  ),
  token_type: optional(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom("bearer", "Bearer", "BEARER", "bEaReR"),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          "dpop",
          "DPoP",
          "mac",
          "",
          " bearer",
          "bearer ",
          "N_A",
          "Bearer Bearer",
        ),
      },
      { weight: 1, arbitrary: weird },
    ),
    12,
  ),
  expires_in: optional(expiresIn, 3),
  refresh_token: optional(
    fc.oneof({ weight: 5, arbitrary: token }, { weight: 1, arbitrary: weird }),
    2,
  ),
  scope: optional(
    fc.oneof(fc.constantFrom("cors_api", "openid profile"), weird),
    3,
  ),
  id_token: optional(fc.oneof(fc.string(), weird), 20),
  error: optional(errorValue, 4),
  error_description: optional(fc.oneof(prose, weird), 4),
  message: optional(prose, 8),
});

const objectBody: fc.Arbitrary<BodySpec> = fc.tuple(
  tokenFields,
  fc.dictionary(fc.string({ maxLength: 8 }), jsonish, { maxKeys: 3 }),
).map(([fields, extra]) => {
  const value: Record<string, unknown> = { ...extra };
  for (const [key, field] of Object.entries(fields)) {
    if (field !== undefined) value[key] = field;
  }
  return { kind: "object", value };
});

/**
 * A well-formed answer (bearer, string tokens, numeric expires_in), with at
 * most one field replaced by a random value.
 */
const wellFormedBody: fc.Arbitrary<BodySpec> = fc.tuple(
  fc.record({
    access_token: token,
    token_type: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom("bearer", "Bearer", "BEARER") },
      { weight: 1, arbitrary: fc.constantFrom("DPoP", "dpop", "mac") },
    ),
    expires_in: optional(
      fc.oneof(
        fc.integer({ min: 0, max: 100_000 }),
        fc.constantFrom("3600", "60", "0"),
      ),
      3,
    ),
    refresh_token: optional(token, 2),
    scope: optional(fc.constantFrom("cors_api", "openid profile", ""), 2),
  }),
  fc.option(
    fc.tuple(
      fc.constantFrom(
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "id_token",
      ),
      weird,
    ),
    { nil: null, freq: 2 },
  ),
  fc.dictionary(fc.string({ maxLength: 8 }), jsonish, { maxKeys: 2 }),
).map(([fields, mutation, extra]) => {
  const value: Record<string, unknown> = { ...extra };
  for (const [key, field] of Object.entries(fields)) {
    if (field !== undefined) value[key] = field;
  }
  if (mutation !== null) value[mutation[0]] = mutation[1];
  return { kind: "object", value };
});

const RAW_BODIES = [
  "",
  "<!doctype html><html><body>Sign in</body></html>",
  "{",
  "not json",
  "null",
  "[]",
  '"{ACCESS}"',
  '{"access_token":"{ACCESS}","access_token":5,"token_type":"bearer"}',
  '{"access_token":"{ACCESS}","token_type":"bearer","expires_in":1e999}',
  '{"access_token":"{ACCESS}","token_type":"bearer","expires_in":-1e999}',
  '\uFEFF{"access_token":"{ACCESS}","token_type":"bearer"}',
  '{"access_token":"{ACCESS}","token_type":"bearer"}garbage',
  '{"access_token":"{ACCESS}","token_type":"bearer",}',
  '{"error":"invalid_grant","error_description":"{CODE} {REFRESH}"}',
  "access_token={ACCESS}&token_type=bearer&expires_in=3600",
  '{"__proto__":{"access_token":"{ACCESS}"},"token_type":"bearer"}',
];

const body: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 6, arbitrary: wellFormedBody },
  { weight: 6, arbitrary: objectBody },
  {
    weight: 1,
    arbitrary: jsonish.map((value): BodySpec => ({ kind: "json", value })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...RAW_BODIES).map((text): BodySpec => ({
      kind: "text",
      text,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 60 }).map((text): BodySpec => ({
      kind: "text",
      text,
    })),
  },
);

const STATUSES = [200, 201, 400, 401, 404, 500, 503];
const CONTENT_TYPES = [
  "application/json",
  "application/json;charset=utf-8",
  "text/html",
  null,
  "text/plain",
  "APPLICATION/JSON",
  "application/problem+json",
];

interface CaseOptions {
  status?: fc.Arbitrary<number>;
  contentType?: fc.Arbitrary<string | null>;
  body?: fc.Arbitrary<BodySpec>;
}

function tokenCase(options: CaseOptions = {}): fc.Arbitrary<Case> {
  return fc.record({
    reply: fc.record({
      status: options.status ??
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(200) },
          { weight: 4, arbitrary: fc.constantFrom(...STATUSES) },
        ),
      contentType: options.contentType ??
        fc.oneof(
          {
            weight: 6,
            arbitrary: fc.constantFrom(
              "application/json",
              "application/json;charset=utf-8",
            ),
          },
          { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        ),
      body: options.body ?? body,
    }),
    looker: fc.boolean(),
    code: secret,
    verifier: secret,
    refreshToken: secret,
    accessToken: secret,
    oldScope: fc.option(fc.constantFrom("cors_api", "openid"), { nil: null }),
    now: fc.integer({ min: 0, max: 4_102_444_800_000 }), // to 2100
  });
}

/** Puts the case's secrets in the body. */
function fill(text: string, c: Case, values: Record<string, unknown>): string {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const secrets: Record<(typeof SECRET_SLOTS)[number], string> = {
    "{CODE}": c.code,
    "{VERIFIER}": c.verifier,
    "{REFRESH}": c.refreshToken,
    "{OLD_ACCESS}": c.accessToken,
    "{ACCESS}": str(values.access_token) || "AccessToken-in-a-raw-body",
    "{NEW_REFRESH}": str(values.refresh_token),
  };
  return text.replace(
    /\{(?:CODE|VERIFIER|REFRESH|OLD_ACCESS|ACCESS|NEW_REFRESH)\}/g,
    (slot) => secrets[slot as keyof typeof secrets],
  );
}

function render(c: Case): Reply {
  const { status, contentType, body } = c.reply;
  let text: string;
  switch (body.kind) {
    case "object": {
      const value: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(body.value)) {
        value[key] = typeof field === "string"
          ? fill(field, c, body.value)
          : field;
      }
      text = JSON.stringify(value);
      break;
    }
    case "json":
      text = JSON.stringify(body.value) ?? "";
      break;
    case "text":
      text = fill(body.text, c, {});
      break;
  }
  return { status, contentType, body: text };
}

// --- the server -------------------------------------------------------------

interface Endpoint extends AsyncDisposable {
  looker: AuthServer;
  generic: AuthServer;
  /** Answers every request with `reply` until told otherwise. */
  answer(reply: Reply): void;
  requests: number;
}

function startEndpoint(): Endpoint {
  let current: Reply = { status: 500, contentType: null, body: "" };
  const endpoint = {
    requests: 0,
    answer(reply: Reply) {
      current = reply;
    },
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      await req.body?.cancel();
      endpoint.requests++;
      const headers = new Headers();
      if (current.contentType !== null) {
        headers.set("content-type", current.contentType);
      }
      // Bytes, so that no content type is added when there is none.
      return new Response(new TextEncoder().encode(current.body), {
        status: current.status,
        headers,
      });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return Object.assign(endpoint, {
    looker: lookerServer({ lookerUrl: base, apiUrl: base }),
    generic: oauthServer({
      authorizationEndpoint: `${base}/authorize`,
      tokenEndpoint: `${base}/token`,
    }),
    [Symbol.asyncDispose]: () => server.shutdown(),
  });
}

// --- the oracle -------------------------------------------------------------

type Operation = "exchange" | "refresh";

function previous(c: Case): TokenSet {
  return {
    accessToken: c.accessToken,
    tokenType: "bearer",
    expiresAt: c.now - 1000,
    refreshToken: c.refreshToken,
    ...(c.oldScope === null ? {} : { scope: c.oldScope }),
  };
}

/** What the client reads from the body, as `Response.json()` would. */
function parsed(reply: Reply): unknown {
  const text = new TextDecoder().decode(new TextEncoder().encode(reply.body));
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isJsonType(contentType: string | null): boolean {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return type === "application/json" || type?.endsWith("+json") === true;
}

/** The largest epoch ms a Date can hold. */
const MAX_TIME = 8.64e15;

/**
 * The lifetime `expires_in` stands for, or `undefined` when the answer must
 * be refused. Numbers and numeric strings (read with parseFloat, as
 * oauth4webapi does) count; negative, non-finite and non-numeric ones do not,
 * nor those whose expiry a Date cannot hold.
 */
function lifetime(value: unknown, now: number): number | undefined {
  let seconds: number;
  if (value === undefined) {
    seconds = DEFAULT_EXPIRES_IN;
  } else if (typeof value === "number") {
    seconds = value;
  } else {
    try {
      seconds = parseFloat(value as string);
    } catch {
      return undefined; // an object that cannot be turned into a string
    }
  }
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  if (!(Math.abs(now + seconds * 1000) <= MAX_TIME)) return undefined;
  return seconds;
}

function isVschar(value: unknown): value is string {
  return typeof value === "string" && /^[\x20-\x7e]+$/.test(value);
}

/** The TokenSet the answer must give, or `undefined` if it must be refused. */
function expected(
  c: Case,
  reply: Reply,
  operation: Operation,
): TokenSet | undefined {
  if (reply.status !== 200 || !isJsonType(reply.contentType)) return undefined;
  const body = parsed(reply);
  if (!isObject(body)) return undefined;
  // Optional members sent as null count as absent (Looker's nullable ones).
  const absentIfNull = (value: unknown) => value === null ? undefined : value;
  const { access_token: access, token_type: type } = body;
  const refresh = absentIfNull(body.refresh_token);
  const scope = absentIfNull(body.scope);
  const idToken = absentIfNull(body.id_token);
  // Tokens are printable ASCII (RFC 6749 Appendix A: 1*VSCHAR).
  if (!isVschar(access)) return undefined;
  if (typeof type !== "string" || type.toLowerCase() !== "bearer") {
    return undefined;
  }
  const seconds = lifetime(body.expires_in, c.now);
  if (seconds === undefined) return undefined;
  if (refresh !== undefined && !isVschar(refresh)) return undefined;
  if (
    scope !== undefined &&
    (typeof scope !== "string" || !/^[\x20-\x7e]*$/.test(scope))
  ) {
    return undefined;
  }
  if (idToken !== undefined) return undefined; // never a valid ID token here
  const old = operation === "refresh" ? previous(c) : undefined;
  const refreshToken = refresh ?? old?.refreshToken;
  const keptScope = scope ?? old?.scope;
  return {
    accessToken: access,
    tokenType: "bearer",
    expiresAt: c.now + seconds * 1000,
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(keptScope === undefined ? {} : { scope: keptScope }),
  };
}

// --- checks -----------------------------------------------------------------

type Outcome = { ok: true; tokens: TokenSet } | {
  ok: false;
  error: OAuthError;
};

async function call(
  endpoint: Endpoint,
  c: Case,
  reply: Reply,
  operation: Operation,
): Promise<Outcome> {
  endpoint.answer(reply);
  const server = c.looker ? endpoint.looker : endpoint.generic;
  try {
    const tokens = operation === "exchange"
      ? await exchangeCode(server, {
        clientId: CLIENT_ID,
        redirectUri: REDIRECT,
        code: c.code,
        codeVerifier: c.verifier,
        now: () => c.now,
      })
      : await refreshTokens(server, {
        clientId: CLIENT_ID,
        redirectUri: REDIRECT,
        tokens: previous(c),
        now: () => c.now,
      });
    return { ok: true, tokens };
  } catch (err) {
    assertWellFormedOAuthError(err, `${operation} rejected with`);
    return { ok: false, error: err };
  }
}

/** Everything a person or a log could see of an error. */
function shown(err: OAuthError): string {
  return [
    err.message,
    err.hint,
    err.error,
    err.errorDescription,
    Deno.inspect(err, { depth: 8, strAbbreviateSize: Infinity }),
  ].join("\n");
}

/** Replaces `value` in a body, raw and JSON-escaped, by a character not in it. */
function scrub(text: string, value: string): string {
  const stand = placeholder(value);
  return text.replaceAll(JSON.stringify(value).slice(1, -1), stand)
    .replaceAll(value, stand);
}

/**
 * Asserts that the error shows no secret: not the code, verifier or tokens
 * sent (random, 16+ characters, so never in the library's own wording), and
 * no token of the answer (4+ characters). A token of the answer found in the
 * error counts only if it came from the answer: with it scrubbed from the
 * body, the error must no longer show it.
 */
async function assertNoSecretShown(
  endpoint: Endpoint,
  c: Case,
  reply: Reply,
  operation: Operation,
  err: OAuthError,
): Promise<void> {
  const text = shown(err);
  const sent = operation === "exchange"
    ? { code: c.code, verifier: c.verifier }
    : { "refresh token": c.refreshToken, "access token": c.accessToken };
  for (const [what, value] of Object.entries(sent)) {
    assert.ok(!text.includes(value), `the ${err.code} error shows the ${what}`);
  }
  const body = parsed(reply);
  if (!isObject(body)) return;
  for (const key of ["access_token", "refresh_token", "id_token"]) {
    const value: unknown = body[key];
    if (typeof value !== "string" || value.length < 4) continue;
    // A token that is part of the redaction mark shows wherever it works.
    if (REDACTED.includes(value)) continue;
    if (!text.includes(value)) continue;
    const again = await call(
      endpoint,
      c,
      { ...reply, body: scrub(reply.body, value) },
      operation,
    );
    if (again.ok || shown(again.error).includes(value)) continue;
    assert.fail(
      `the ${err.code} error shows the answer's ${key} ${
        JSON.stringify(value)
      }: ${JSON.stringify(err.message)}`,
    );
  }
}

async function check(
  endpoint: Endpoint,
  c: Case,
  operation: Operation,
): Promise<Outcome> {
  const reply = render(c);
  const outcome = await call(endpoint, c, reply, operation);
  const want = expected(c, reply, operation);
  if (outcome.ok) {
    const { tokens } = outcome;
    assert.ok(
      want !== undefined,
      `accepted a ${reply.status} ${reply.contentType} answer: ${
        reply.body.slice(0, 300)
      }`,
    );
    assert.equal(typeof tokens.accessToken, "string");
    assert.notEqual(tokens.accessToken, "");
    assert.equal(tokens.tokenType, "bearer");
    assert.ok(
      Number.isFinite(tokens.expiresAt),
      `expiresAt ${tokens.expiresAt}`,
    );
    assert.deepEqual(tokens, want);
  } else {
    const { error } = outcome;
    assert.equal(
      want,
      undefined,
      `refused a valid answer with ${error.code}: ${error.message}`,
    );
    if (reply.status < 200 || reply.status > 299) {
      assert.equal(error.status, reply.status, "the status is not kept");
    }
    await assertNoSecretShown(endpoint, c, reply, operation, error);
  }
  return outcome;
}

// --- properties -------------------------------------------------------------

Deno.test("token endpoint answers (properties, one loopback server)", async (t) => {
  await using endpoint = startEndpoint();

  for (const operation of ["exchange", "refresh"] as const) {
    const name = operation === "exchange"
      ? "exchangeCode()"
      : "refreshTokens()";
    await t.step(
      `${name} resolves to a bearer TokenSet or rejects with an OAuthError (property)`,
      async () => {
        let successes = 0;
        let failures = 0;
        await fc.assert(
          fc.asyncProperty(tokenCase(), async (c) => {
            if ((await check(endpoint, c, operation)).ok) successes++;
            else failures++;
          }),
          { numRuns: 1000 },
        );
        assert.ok(successes > 30, `only ${successes} successes`);
        assert.ok(failures > 30, `only ${failures} failures`);
      },
    );
  }

  await t.step(
    "exchangeCode() and refreshTokens() never show a secret in an error (property)",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          tokenCase({
            status: fc.constantFrom(...STATUSES),
            body: fc.oneof(
              objectBody.map((b): BodySpec =>
                b.kind === "object"
                  ? {
                    kind: "object",
                    value: {
                      ...b.value,
                      error_description: `{ACCESS} {NEW_REFRESH} ${
                        typeof b.value.error_description === "string"
                          ? b.value.error_description
                          : ""
                      } {CODE} {VERIFIER} {REFRESH}`,
                    },
                  }
                  : b
              ),
              body,
            ),
          }),
          fc.constantFrom<Operation>("exchange", "refresh"),
          async (c, operation) => {
            await check(endpoint, c, operation);
          },
        ),
        { numRuns: 800 },
      );
    },
  );

  await t.step(
    "exchangeCode() without expires_in expires DEFAULT_EXPIRES_IN seconds after receipt (property)",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          tokenCase({
            status: fc.constant(200),
            contentType: fc.constant("application/json"),
            body: fc.record({
              access_token: validToken,
              token_type: fc.constantFrom("bearer", "Bearer", "BEARER"),
              refresh_token: optional(validToken, 2),
            }).map((value): BodySpec => ({
              kind: "object",
              value: JSON.parse(JSON.stringify(value)),
            })),
          }),
          fc.constantFrom<Operation>("exchange", "refresh"),
          async (c, operation) => {
            const outcome = await check(endpoint, c, operation);
            assert.ok(outcome.ok, "refused a valid answer");
            assert.equal(
              outcome.tokens.expiresAt,
              c.now + DEFAULT_EXPIRES_IN * 1000,
            );
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  await t.step(
    "refreshTokens() keeps the old refresh token unless the answer has a new one (property)",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          tokenCase({
            status: fc.constant(200),
            contentType: fc.constantFrom(
              "application/json",
              "application/json;charset=utf-8",
            ),
            body: fc.record({
              access_token: validToken,
              token_type: fc.constant("Bearer"),
              expires_in: optional(fc.integer({ min: 0, max: 100_000 }), 2),
              refresh_token: optional(
                fc.oneof(token, fc.constantFrom<unknown>("", null, 42, [])),
                2,
              ),
            }).map((value): BodySpec => ({
              kind: "object",
              value: JSON.parse(JSON.stringify(value)),
            })),
          }),
          async (c) => {
            const outcome = await check(endpoint, c, "refresh");
            const sent = (c.reply.body as { value: Record<string, unknown> })
              .value.refresh_token;
            if (sent === undefined || sent === null) {
              assert.ok(outcome.ok, `refused refresh_token ${sent}`);
              assert.equal(outcome.tokens.refreshToken, c.refreshToken);
            } else if (isVschar(sent)) {
              assert.ok(outcome.ok, "refused a rotated refresh token");
              assert.equal(outcome.tokens.refreshToken, sent);
            } else {
              assert.ok(!outcome.ok, `accepted refresh_token ${sent}`);
              assert.equal(outcome.error.code, "invalid_response");
            }
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  // Every run above made at least one real request.
  assert.ok(endpoint.requests >= 3400, `only ${endpoint.requests} requests`);
});
