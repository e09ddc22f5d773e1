// Property tests for parseCallback(): generated callback URLs, from plausible
// redirects to hostile ones (unicode, invalid percent-encodings, duplicates,
// huge values, stray fragments), given as a string, a bare query, a URL or
// URLSearchParams, against servers with and without RFC 9207 `iss`.
//
// The oracle is the WHATWG URL standard: whatever parseCallback() does, it is
// compared with the parameters `new URL(...)` / `URLSearchParams` read from
// the same input.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type AuthServer,
  lookerServer,
  type OAuthError,
  oauthServer,
  parseCallback,
} from "../../src/core/mod.ts";
import {
  assertWellFormedOAuthError,
  base64url,
  placeholder,
  REDACTED,
} from "./_property.ts";

// --- servers ----------------------------------------------------------------

interface Target {
  name: string;
  server: AuthServer;
  issuer: string;
  /** The server promises `iss` in every authorization response (RFC 9207). */
  promisesIss: boolean;
}

const ISSUER = "https://id.example.com";
const TARGETS: readonly Target[] = [
  {
    name: "looker",
    server: lookerServer({
      lookerUrl: "https://example.looker.com",
      apiUrl: "https://example.looker.com:19999",
    }),
    issuer: "https://example.looker.com",
    promisesIss: false,
  },
  {
    name: "oauth",
    server: oauthServer({
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
    }),
    issuer: ISSUER,
    promisesIss: false,
  },
  {
    name: "rfc9207",
    server: oauthServer({
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
      issParameterSupported: true,
    }),
    issuer: ISSUER,
    promisesIss: true,
  },
];

const BASE = "http://localhost:8080/callback";

// --- generated callbacks ----------------------------------------------------

/** How a name or value is written into the query string. */
type Encoding = "component" | "form" | "lower" | "raw" | "double";

/** A parameter value, resolved against the case's state, code and issuer. */
type ValueSpec =
  | { k: "state" }
  | { k: "stateVariant"; v: number }
  | { k: "code" }
  | { k: "codeEmbed"; pre: string; post: string }
  | { k: "issuer" }
  | { k: "issVariant"; v: number }
  | { k: "text"; s: string };

interface Entry {
  name: string;
  /** `null`: the parameter is written without `=`. */
  value: ValueSpec | null;
  enc: Encoding;
}

interface Noise {
  entry: Entry;
  /** Where it goes among the other parameters. */
  at: number;
}

type Form = "url" | "query" | "URL" | "params" | "parsedParams";

interface Case {
  target: Target;
  /** The state sent with the authorization request. */
  state: string;
  /** The code the server meant to send. */
  code: string;
  stateMode: "one" | "none" | "wrong" | "dup" | "dupSame";
  codeMode: "one" | "none" | "empty" | "bare" | "dup" | "other";
  issMode: "auto" | "right" | "none" | "wrong" | "empty" | "dup";
  errorMode: "none" | "one" | "empty" | "dup";
  errorValue: ValueSpec;
  description: ValueSpec | null;
  noise: Noise[];
  junk: string[];
  lead: string;
  fragment: string | null;
  padding: [string, string];
  form: Form;
}

/** Strings that have broken URL handling somewhere before. */
const HOSTILE = [
  "%zz",
  "%E0%A4%A",
  "%",
  "%%",
  "%2",
  "%00",
  "%2B",
  "%26",
  "%3D",
  "%23",
  "%FF%FE",
  "%ED%A0%80",
  "+",
  "++",
  "&",
  "&&",
  "=",
  "==",
  "#",
  "?",
  "?&",
  ";",
  " ",
  "\u0000",
  "\u001b[31m",
  "\uD800",
  "\uDC00x",
  "\uFEFF",
  "\u00A0",
  "\u3000",
  "\u2028",
  "é",
  "e\u0301",
  "𝕏",
  "👩‍👩‍👧",
  "\r\n",
  "\t",
  "a b",
  "a+b",
  "<script>",
  "'\"",
  "\\",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "valueOf",
];

const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
  {
    weight: 2,
    arbitrary: fc.array(fc.constantFrom(...HOSTILE), { maxLength: 5 }).map(
      (parts) => parts.join(""),
    ),
  },
);

/** Up to ~100 KB. */
const huge: fc.Arbitrary<string> = fc.tuple(
  fc.integer({ min: 1_000, max: 100_000 }),
  fc.constantFrom("a", "é", "%", "+", "&", "%zz", "\u3000", "A-_"),
).map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));

const encoding: fc.Arbitrary<Encoding> = fc.constantFrom(
  "component",
  "component",
  "form",
  "lower",
  "raw",
  "raw",
  "double",
);

const expectedState: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: base64url(43, 43) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 10 }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("a", "+", " x", "%41", "&", "state=x", "é"),
  },
);

const codeValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: base64url(4, 64) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 8 }),
  },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: huge },
);

const valueSpec: fc.Arbitrary<ValueSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<ValueSpec>({ k: "state" }) },
  {
    weight: 2,
    arbitrary: fc.nat(11).map((v): ValueSpec => ({ k: "stateVariant", v })),
  },
  { weight: 2, arbitrary: fc.constant<ValueSpec>({ k: "code" }) },
  {
    weight: 3,
    arbitrary: fc.record({ pre: text, post: text }).map((
      { pre, post },
    ): ValueSpec => ({ k: "codeEmbed", pre, post })),
  },
  { weight: 1, arbitrary: fc.constant<ValueSpec>({ k: "issuer" }) },
  {
    weight: 1,
    arbitrary: fc.nat(6).map((v): ValueSpec => ({ k: "issVariant", v })),
  },
  { weight: 8, arbitrary: text.map((s): ValueSpec => ({ k: "text", s })) },
  { weight: 1, arbitrary: huge.map((s): ValueSpec => ({ k: "text", s })) },
);

const errorValue: fc.Arbitrary<ValueSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "access_denied",
      "invalid_request",
      "unauthorized_client",
      "invalid_scope",
      "server_error",
      "temporarily_unavailable",
      "login_required",
      "consent_required",
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "ACCESS_DENIED",
      "access_denied ",
    ).map((s): ValueSpec => ({ k: "text", s })),
  },
  { weight: 3, arbitrary: valueSpec },
);

const NAMES = [
  "code",
  "state",
  "iss",
  "error",
  "error_description",
  "error_uri",
  "response",
  "id_token",
  "token",
  "session_state",
  "scope",
  "Code",
  "STATE",
  "state ",
  " code",
  "code[]",
  "state%00",
];

const paramName: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) },
  { weight: 1, arbitrary: text },
);

const noiseEntry: fc.Arbitrary<Noise> = fc.record({
  entry: fc.record({
    name: paramName,
    value: fc.option(valueSpec, { freq: 8, nil: null }),
    enc: encoding,
  }),
  at: fc.nat(20),
});

const junk: fc.Arbitrary<string> = fc.constantFrom(
  "",
  "&",
  "&&",
  "=",
  "==x",
  "%zz",
  "%E0%A4%A",
  "a=b=c",
  "=x",
  "%",
  "+",
  "&=&",
  "%3D%3D",
  "code",
  "state",
);

interface CaseOptions {
  stateMode?: fc.Arbitrary<Case["stateMode"]>;
  codeMode?: fc.Arbitrary<Case["codeMode"]>;
  issMode?: fc.Arbitrary<Case["issMode"]>;
  errorMode?: fc.Arbitrary<Case["errorMode"]>;
  code?: fc.Arbitrary<string>;
  errorValue?: fc.Arbitrary<ValueSpec>;
  description?: fc.Arbitrary<ValueSpec | null>;
  maxNoise?: number;
}

function callbackCase(options: CaseOptions = {}): fc.Arbitrary<Case> {
  return fc.record({
    target: fc.constantFrom(...TARGETS),
    state: expectedState,
    code: options.code ?? codeValue,
    stateMode: options.stateMode ??
      fc.constantFrom<Case["stateMode"]>(
        "one",
        "one",
        "one",
        "one",
        "one",
        "one",
        "none",
        "wrong",
        "dup",
        "dupSame",
      ),
    codeMode: options.codeMode ??
      fc.constantFrom<Case["codeMode"]>(
        "one",
        "one",
        "one",
        "one",
        "none",
        "empty",
        "bare",
        "dup",
        "other",
      ),
    issMode: options.issMode ??
      fc.constantFrom<Case["issMode"]>(
        "auto",
        "auto",
        "auto",
        "right",
        "none",
        "wrong",
        "empty",
        "dup",
      ),
    errorMode: options.errorMode ??
      fc.constantFrom<Case["errorMode"]>(
        "none",
        "none",
        "none",
        "none",
        "one",
        "one",
        "empty",
        "dup",
      ),
    errorValue: options.errorValue ?? errorValue,
    description: options.description ?? fc.option(valueSpec, { nil: null }),
    noise: fc.array(noiseEntry, { maxLength: options.maxNoise ?? 6 }),
    junk: fc.array(junk, { maxLength: 3 }),
    lead: fc.constantFrom("", "", "&", "&&", "?", "?&", "&=&"),
    fragment: fc.option(
      fc.oneof(
        fc.constantFrom("", "_=_", "code=FRAGMENT&state=", "error=x", "#"),
        text,
      ),
      { freq: 3, nil: null },
    ),
    padding: fc.tuple(
      fc.constantFrom("", "", "", " ", "\t", "\n", "  \r\n"),
      fc.constantFrom("", "", "", " ", "\n", "\r\n", " \t"),
    ),
    form: fc.constantFrom<Form>(
      "url",
      "query",
      "URL",
      "params",
      "parsedParams",
    ),
  });
}

function stateVariant(state: string, v: number): string {
  switch (v) {
    case 0:
      return "";
    case 1:
      return `${state}x`;
    case 2:
      return state.slice(0, -1);
    case 3:
      return state.toUpperCase() === state
        ? state.toLowerCase()
        : state.toUpperCase();
    case 4:
      return ` ${state}`;
    case 5:
      return `${state} `;
    case 6:
      return encodeURIComponent(state.toWellFormed());
    case 7:
      return state.replaceAll(" ", "+");
    case 8:
      return `${state}\u0000`;
    case 9:
      return `${state}&state=${state}`;
    case 10:
      return state.normalize("NFD");
    default:
      return "forged";
  }
}

function issVariant(issuer: string, v: number): string {
  switch (v) {
    case 0:
      return `${issuer}/`;
    case 1:
      return issuer.toUpperCase();
    case 2:
      return issuer.replace("https:", "http:");
    case 3:
      return "https://evil.example.com";
    case 4:
      return ` ${issuer}`;
    case 5:
      return `${issuer}#`;
    default:
      return "";
  }
}

function resolve(spec: ValueSpec, c: Case): string {
  switch (spec.k) {
    case "state":
      return c.state;
    case "stateVariant":
      return stateVariant(c.state, spec.v);
    case "code":
      return c.code;
    case "codeEmbed":
      return `${spec.pre}${c.code}${spec.post}`;
    case "issuer":
      return c.target.issuer;
    case "issVariant":
      return issVariant(c.target.issuer, spec.v);
    case "text":
      return spec.s;
  }
}

function encode(value: string, enc: Encoding): string {
  const wellFormed = value.toWellFormed();
  switch (enc) {
    case "component":
      return encodeURIComponent(wellFormed);
    case "form":
      return encodeURIComponent(wellFormed).replaceAll("%20", "+");
    case "lower":
      return encodeURIComponent(wellFormed).replace(
        /%[0-9A-F]{2}/g,
        (hex) => hex.toLowerCase(),
      );
    case "double":
      return encodeURIComponent(encodeURIComponent(wellFormed));
    case "raw":
      // Everything literal (&, =, +, %, #, ? included) except controls and
      // spaces, which URL parsers strip or trim.
      return wellFormed.replace(
        // deno-lint-ignore no-control-regex
        /[\u0000-\u0020\u007f]/g,
        (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, "0")}`,
      );
  }
}

/** The parameters of a case, in order, with decoded values. */
function entries(c: Case): Entry[] {
  const list: Entry[] = [];
  const add = (name: string, value: ValueSpec | null, enc: Encoding) =>
    list.push({ name, value, enc });
  const txt = (s: string): ValueSpec => ({ k: "text", s });

  switch (c.stateMode) {
    case "one":
      add("state", { k: "state" }, "component");
      break;
    case "wrong":
      add("state", { k: "stateVariant", v: 11 }, "component");
      break;
    case "dup":
      add("state", { k: "state" }, "component");
      add("state", { k: "stateVariant", v: 1 }, "component");
      break;
    case "dupSame":
      add("state", { k: "state" }, "component");
      add("state", { k: "state" }, "form");
      break;
    case "none":
      break;
  }
  switch (c.codeMode) {
    case "one":
      add("code", { k: "code" }, "component");
      break;
    case "empty":
      add("code", txt(""), "component");
      break;
    case "bare":
      add("code", null, "component");
      break;
    case "dup":
      add("code", { k: "code" }, "component");
      add("code", { k: "code" }, "component");
      break;
    case "other":
      add("code", { k: "codeEmbed", pre: "x", post: "" }, "component");
      break;
    case "none":
      break;
  }
  const issMode = c.issMode === "auto"
    ? (c.target.promisesIss ? "right" : "none")
    : c.issMode;
  switch (issMode) {
    case "right":
      add("iss", { k: "issuer" }, "component");
      break;
    case "wrong":
      add("iss", { k: "issVariant", v: 3 }, "component");
      break;
    case "empty":
      add("iss", txt(""), "component");
      break;
    case "dup":
      add("iss", { k: "issuer" }, "component");
      add("iss", { k: "issuer" }, "component");
      break;
    case "none":
      break;
  }
  switch (c.errorMode) {
    case "one":
      add("error", c.errorValue, "form");
      break;
    case "empty":
      add("error", txt(""), "component");
      break;
    case "dup":
      add("error", c.errorValue, "component");
      add("error", txt("access_denied"), "component");
      break;
    case "none":
      break;
  }
  if (c.description !== null) {
    add("error_description", c.description, "form");
  }
  for (const { entry, at } of c.noise) {
    list.splice(at % (list.length + 1), 0, entry);
  }
  return list;
}

/** The callback as parseCallback() receives it. */
function build(c: Case): string | URL | URLSearchParams {
  const list = entries(c);
  if (c.form === "params") {
    const params = new URLSearchParams();
    for (const { name, value } of list) {
      params.append(name, value === null ? "" : resolve(value, c));
    }
    return params;
  }
  const pieces = list.map(({ name, value, enc }) =>
    value === null
      ? encode(name, enc)
      : `${encode(name, enc)}=${encode(resolve(value, c), enc)}`
  );
  for (const [i, j] of c.junk.entries()) {
    pieces.splice((i * 7) % (pieces.length + 1), 0, j);
  }
  const query = `${c.lead}${pieces.join("&")}`;
  const fragment = c.fragment === null ? "" : `#${c.fragment}`;
  switch (c.form) {
    case "url":
      return `${c.padding[0]}${BASE}?${query}${fragment}${c.padding[1]}`;
    case "URL":
      return new URL(`${BASE}?${query}${fragment}`);
    case "query":
      return `${c.padding[0]}?${query}${fragment}${c.padding[1]}`;
    case "parsedParams":
      return new URLSearchParams(query);
  }
}

/**
 * The parameters the WHATWG URL standard reads from the input. Strings are
 * pasted text: surrounding whitespace is not part of the URL.
 */
function oracle(input: string | URL | URLSearchParams): URLSearchParams {
  if (input instanceof URLSearchParams) return new URLSearchParams(input);
  if (input instanceof URL) return new URLSearchParams(input.search);
  return new URL(input.trim(), BASE).searchParams;
}

// --- checks -----------------------------------------------------------------

type Outcome = { ok: true; code: string } | { ok: false; error: OAuthError };

function run(
  target: Target,
  input: string | URL | URLSearchParams,
  state: string,
): Outcome {
  try {
    return { ok: true, code: parseCallback(target.server, input, { state }) };
  } catch (err) {
    assertWellFormedOAuthError(err, "parseCallback() threw");
    return { ok: false, error: err };
  }
}

function stateMatches(params: URLSearchParams, state: string): boolean {
  const states = params.getAll("state");
  return states.length === 1 && states[0] === state;
}

/** One `iss`, the issuer's, or none where the server does not promise it. */
function issMatches(params: URLSearchParams, target: Target): boolean {
  const issuers = params.getAll("iss");
  return issuers.length === 0
    ? !target.promisesIss
    : issuers.length === 1 && issuers[0] === target.issuer;
}

/** What a person or a log could see of an error. */
function shown(err: OAuthError): string {
  return [err.message, err.hint, err.error, err.errorDescription].join("\n");
}

/**
 * Asserts that no code of the callback shows in the error. A code found in
 * the error counts only if it came from the input: the same callback with the
 * code replaced in every value (but `state` and `iss`, which decide the path)
 * must no longer show it; otherwise it is the library's own wording (a code
 * such as "the ", or "dact" where "[redacted]" stands for a code).
 */
function assertNoCodeShown(
  target: Target,
  params: URLSearchParams,
  state: string,
  err: OAuthError,
): void {
  for (const code of new Set(params.getAll("code"))) {
    if (code.length < 4 || REDACTED.includes(code)) continue;
    if (!shown(err).includes(code)) continue;
    const scrubbed = new URLSearchParams();
    for (const [name, value] of params) {
      scrubbed.append(
        name,
        name === "state" || name === "iss"
          ? value
          : value.replaceAll(code, placeholder(code)),
      );
    }
    const again = run(target, scrubbed, state);
    if (again.ok || shown(again.error).includes(code)) continue;
    assert.fail(
      `the ${err.code} error shows the code ${
        JSON.stringify(code.slice(0, 80))
      }: ${JSON.stringify(shown(err).slice(0, 400))}`,
    );
  }
}

/** Every property, checked on every case. */
function check(c: Case): { outcome: Outcome; params: URLSearchParams } {
  const input = build(c);
  const params = oracle(input);
  const outcome = run(c.target, input, c.state);
  const matches = stateMatches(params, c.state);
  if (outcome.ok) {
    const codes = params.getAll("code");
    assert.equal(codes.length, 1, "succeeded without exactly one code");
    assert.equal(outcome.code, codes[0], "returned another value than code");
    assert.notEqual(outcome.code, "", "returned an empty code");
    assert.ok(matches, "succeeded without exactly one matching state");
    assert.ok(!params.has("error"), "succeeded on an error callback");
    assert.ok(
      issMatches(params, c.target),
      `succeeded with iss ${JSON.stringify(params.getAll("iss"))}`,
    );
  } else {
    const { error } = outcome;
    if (matches) {
      assert.notEqual(
        error.code,
        "state_mismatch",
        "state_mismatch for a matching state",
      );
    } else {
      assert.equal(
        error.code,
        "state_mismatch",
        `${error.code} (${error.message}) for a mismatched state`,
      );
    }
    assertNoCodeShown(c.target, params, c.state, error);
  }
  return { outcome, params };
}

// --- properties -------------------------------------------------------------

Deno.test("parseCallback() returns the single code or throws an OAuthError, nothing else (property)", () => {
  let successes = 0;
  let failures = 0;
  fc.assert(
    fc.property(callbackCase(), (c) => {
      if (check(c).outcome.ok) successes++;
      else failures++;
    }),
    { numRuns: 2000 },
  );
  // The generator must exercise both outcomes.
  assert.ok(successes > 50, `only ${successes} successes`);
  assert.ok(failures > 50, `only ${failures} failures`);
});

Deno.test("parseCallback() never accepts a mismatched state (property)", () => {
  let mismatches = 0;
  fc.assert(
    fc.property(
      callbackCase({
        stateMode: fc.constantFrom("none", "wrong", "dup", "dupSame"),
        // everything else as attractive as possible
        codeMode: fc.constant("one"),
        issMode: fc.constantFrom("auto", "right"),
      }),
      (c) => {
        const { outcome, params } = check(c);
        if (!stateMatches(params, c.state)) {
          mismatches++;
          assert.ok(!outcome.ok, "accepted a mismatched state");
          assert.equal(outcome.error.code, "state_mismatch");
        }
      },
    ),
    { numRuns: 1500 },
  );
  assert.ok(mismatches > 1000, `only ${mismatches} mismatched states`);
});

Deno.test("parseCallback() checks state first: an error, iss or code problem with a wrong state is a state_mismatch (property)", () => {
  fc.assert(
    fc.property(
      callbackCase({
        stateMode: fc.constantFrom("none", "wrong", "dup", "dupSame"),
        codeMode: fc.constantFrom("none", "empty", "bare", "dup", "one"),
        issMode: fc.constantFrom("wrong", "empty", "dup", "none"),
        errorMode: fc.constantFrom("one", "empty", "dup"),
        maxNoise: 2,
      }),
      (c) => {
        const input = build(c);
        if (stateMatches(oracle(input), c.state)) return;
        const outcome = run(c.target, input, c.state);
        assert.ok(!outcome.ok, "accepted a mismatched state");
        assert.equal(outcome.error.code, "state_mismatch");
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("parseCallback() never returns a code from an error callback (property)", () => {
  fc.assert(
    fc.property(
      callbackCase({
        stateMode: fc.constant("one"),
        codeMode: fc.constant("one"),
        issMode: fc.constant("auto"),
        errorMode: fc.constantFrom("one", "empty", "dup"),
        maxNoise: 3,
      }),
      (c) => {
        const { outcome, params } = check(c);
        if (!params.has("error")) return;
        assert.ok(!outcome.ok, "returned a code from an error callback");
        const errors = params.getAll("error");
        // A plain error answer (no JARM `response`) is told apart.
        if (
          stateMatches(params, c.state) && issMatches(params, c.target) &&
          errors.length === 1 && errors[0] !== "" &&
          !params.has("response")
        ) {
          assert.equal(
            outcome.error.code,
            errors[0] === "access_denied"
              ? "access_denied"
              : "authorization_error",
          );
        }
      },
    ),
    { numRuns: 1000 },
  );
});

/** A value that holds the code. */
const embedded: fc.Arbitrary<ValueSpec> = fc.record({ pre: text, post: text })
  .map(({ pre, post }): ValueSpec => ({ k: "codeEmbed", pre, post }));

Deno.test("parseCallback() never shows the code in an error (property)", () => {
  fc.assert(
    fc.property(
      callbackCase({
        code: fc.oneof(
          base64url(4, 40),
          fc.string({ minLength: 4, maxLength: 20 }),
          fc.string({ unit: "grapheme", minLength: 4, maxLength: 12 }),
        ),
        errorMode: fc.constantFrom("one", "one", "empty", "dup", "none"),
        errorValue: fc.oneof(embedded, errorValue),
        description: fc.option(fc.oneof(embedded, valueSpec), { nil: null }),
        maxNoise: 4,
      }),
      (c) => {
        check(c);
      },
    ),
    { numRuns: 1000 },
  );
});
