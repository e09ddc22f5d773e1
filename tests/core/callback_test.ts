import assert from "node:assert/strict";
import {
  lookerServer,
  OAuthError,
  type OAuthErrorCode,
  oauthServer,
  parseCallback,
} from "../../src/core/mod.ts";

const looker = lookerServer({
  lookerUrl: "https://example.looker.com",
  apiUrl: "https://example.looker.com:19999",
});
const ISSUER = "https://id.example.com";
/** A server that promises `iss` in every authorization response (RFC 9207). */
const rfc9207 = oauthServer({
  issuer: ISSUER,
  authorizationEndpoint: `${ISSUER}/authorize`,
  tokenEndpoint: `${ISSUER}/token`,
  issParameterSupported: true,
});
/** A server that does not promise `iss`. */
const plain = oauthServer({
  issuer: ISSUER,
  authorizationEndpoint: `${ISSUER}/authorize`,
  tokenEndpoint: `${ISSUER}/token`,
});

const STATE = "Zm9vYmFyYmF6cXV4c3RhdGV2YWx1ZTEyMzQ1Njc4OTA";
const CODE = "S3cr3tAuthorizationCode-0123456789";
const BASE = "http://localhost:8080/callback";

/** Asserts an OAuthError with `code` whose message and hint hold no `CODE`. */
function hasCode(code: OAuthErrorCode, secret: string = CODE) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof OAuthError, `not an OAuthError: ${err}`);
    assert.equal(err.code, code);
    assert.ok(!err.message.includes(secret), "the message quotes the code");
    assert.ok(!(err.hint ?? "").includes(secret), "the hint quotes the code");
    assert.ok(
      !(err.errorDescription ?? "").includes(secret),
      "the description quotes the code",
    );
    return true;
  };
}

Deno.test("parseCallback() returns the code from Looker's ?&code=...&state=... redirect", () => {
  assert.equal(
    parseCallback(looker, `${BASE}?&code=${CODE}&state=${STATE}`, {
      state: STATE,
    }),
    CODE,
  );
});

Deno.test("parseCallback() returns the code from a standard redirect", () => {
  assert.equal(
    parseCallback(plain, `${BASE}?code=${CODE}&state=${STATE}`, {
      state: STATE,
    }),
    CODE,
  );
});

Deno.test("parseCallback() decodes a percent-encoded code", () => {
  assert.equal(
    parseCallback(plain, `${BASE}?code=a%2Bb%2Fc%3D&state=${STATE}`, {
      state: STATE,
    }),
    "a+b/c=",
  );
});

Deno.test("parseCallback() accepts a URL, a string, URLSearchParams and a bare query", () => {
  const href = `${BASE}?&code=${CODE}&state=${STATE}`;
  const expected = { state: STATE };
  assert.equal(parseCallback(looker, new URL(href), expected), CODE);
  assert.equal(parseCallback(looker, href, expected), CODE);
  assert.equal(
    parseCallback(
      looker,
      new URLSearchParams({ code: CODE, state: STATE }),
      expected,
    ),
    CODE,
  );
  assert.equal(
    parseCallback(looker, `?&code=${CODE}&state=${STATE}`, expected),
    CODE,
  );
  assert.equal(
    parseCallback(looker, `code=${CODE}&state=${STATE}`, expected),
    CODE,
  );
});

Deno.test("parseCallback() accepts a pasted URL with surrounding whitespace", () => {
  assert.equal(
    parseCallback(
      looker,
      `  \t${BASE}?&code=${CODE}&state=${STATE}\r\n`,
      { state: STATE },
    ),
    CODE,
  );
});

Deno.test("parseCallback() ignores a fragment after the query", () => {
  assert.equal(
    parseCallback(looker, `${BASE}?code=${CODE}&state=${STATE}#_=_`, {
      state: STATE,
    }),
    CODE,
  );
});

Deno.test("parseCallback() does not modify the URLSearchParams it is given", () => {
  const params = new URLSearchParams({ code: CODE, state: STATE });
  parseCallback(looker, params, { state: STATE });
  assert.equal(params.toString(), `code=${CODE}&state=${STATE}`);
});

// state, checked first

Deno.test("parseCallback() rejects a forged state", () => {
  assert.throws(
    () =>
      parseCallback(looker, `${BASE}?code=${CODE}&state=forged`, {
        state: STATE,
      }),
    hasCode("state_mismatch"),
  );
});

Deno.test("parseCallback() rejects a missing state", () => {
  assert.throws(
    () => parseCallback(looker, `${BASE}?code=${CODE}`, { state: STATE }),
    hasCode("state_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(looker, `${BASE}?code=${CODE}&state=`, { state: STATE }),
    hasCode("state_mismatch"),
  );
});

Deno.test("parseCallback() rejects a duplicated state, even when both copies match", () => {
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?code=${CODE}&state=${STATE}&state=${STATE}`,
        { state: STATE },
      ),
    hasCode("state_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?code=${CODE}&state=${STATE}&state=other`,
        { state: STATE },
      ),
    hasCode("state_mismatch"),
  );
});

Deno.test("parseCallback() rejects a state that differs only in case", () => {
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?code=${CODE}&state=${STATE.toUpperCase()}`,
        { state: STATE },
      ),
    hasCode("state_mismatch"),
  );
});

Deno.test("parseCallback() rejects a state that is a prefix or an extension of the expected one", () => {
  for (const state of [STATE.slice(0, -1), `${STATE}x`, ` ${STATE}`]) {
    assert.throws(
      () =>
        parseCallback(
          looker,
          new URLSearchParams({ code: CODE, state }),
          { state: STATE },
        ),
      hasCode("state_mismatch"),
      state,
    );
  }
});

Deno.test("parseCallback() checks state before error: a forged access_denied is a state_mismatch", () => {
  assert.throws(
    () =>
      parseCallback(looker, `${BASE}?error=access_denied&state=forged`, {
        state: STATE,
      }),
    hasCode("state_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(looker, `${BASE}?error=access_denied`, { state: STATE }),
    hasCode("state_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(looker, `${BASE}?error=server_error&state=forged`, {
        state: STATE,
      }),
    hasCode("state_mismatch"),
  );
});

Deno.test("parseCallback() checks state before iss", () => {
  assert.throws(
    () =>
      parseCallback(
        rfc9207,
        `${BASE}?code=${CODE}&state=forged&iss=https://evil.example.com`,
        { state: STATE },
      ),
    hasCode("state_mismatch"),
  );
});

Deno.test("parseCallback() requires an expected state", () => {
  assert.throws(
    () => parseCallback(looker, `${BASE}?code=${CODE}&state=`, { state: "" }),
    hasCode("invalid_argument"),
  );
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?code=${CODE}`,
        undefined as unknown as { state: string },
      ),
    hasCode("invalid_argument"),
  );
});

// iss (RFC 9207)

Deno.test("parseCallback() accepts the right iss", () => {
  const query = new URLSearchParams({ code: CODE, state: STATE, iss: ISSUER });
  assert.equal(parseCallback(rfc9207, query, { state: STATE }), CODE);
  assert.equal(parseCallback(plain, query, { state: STATE }), CODE);
});

Deno.test("parseCallback() rejects a mismatched iss", () => {
  const query = new URLSearchParams({
    code: CODE,
    state: STATE,
    iss: "https://evil.example.com",
  });
  assert.throws(
    () => parseCallback(rfc9207, query, { state: STATE }),
    hasCode("iss_mismatch"),
  );
  // An iss the server did not promise is still checked when present.
  assert.throws(
    () => parseCallback(plain, query, { state: STATE }),
    hasCode("iss_mismatch"),
  );
  assert.throws(
    () =>
      parseCallback(
        looker,
        new URLSearchParams({ code: CODE, state: STATE, iss: ISSUER }),
        { state: STATE },
      ),
    hasCode("iss_mismatch"),
  );
});

Deno.test("parseCallback() rejects a missing iss when the server promises it", () => {
  assert.throws(
    () =>
      parseCallback(rfc9207, `${BASE}?code=${CODE}&state=${STATE}`, {
        state: STATE,
      }),
    hasCode("iss_mismatch"),
  );
});

Deno.test("parseCallback() checks iss before error", () => {
  assert.throws(
    () =>
      parseCallback(
        rfc9207,
        `${BASE}?error=access_denied&state=${STATE}`,
        { state: STATE },
      ),
    hasCode("iss_mismatch"),
  );
});

Deno.test("parseCallback() rejects a duplicated iss", () => {
  const query = new URLSearchParams([
    ["code", CODE],
    ["state", STATE],
    ["iss", ISSUER],
    ["iss", ISSUER],
  ]);
  assert.throws(
    () => parseCallback(rfc9207, query, { state: STATE }),
    hasCode("invalid_callback"),
  );
});

// error=

Deno.test("parseCallback() reports error=access_denied with the right state as access_denied", () => {
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?&error=access_denied&error_description=User+declined&state=${STATE}`,
        { state: STATE },
      ),
    (err) => {
      hasCode("access_denied")(err);
      assert.equal((err as OAuthError).error, "access_denied");
      return true;
    },
  );
});

Deno.test("parseCallback() reports other errors as authorization_error with .error", () => {
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?error=invalid_scope&error_description=bad+scope&state=${STATE}`,
        { state: STATE },
      ),
    (err) => {
      hasCode("authorization_error")(err);
      assert.equal((err as OAuthError).error, "invalid_scope");
      assert.equal((err as OAuthError).errorDescription, "bad scope");
      assert.ok((err as OAuthError).hint);
      return true;
    },
  );
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?error=something_new&state=${STATE}`,
        { state: STATE },
      ),
    (err) => {
      hasCode("authorization_error")(err);
      assert.equal((err as OAuthError).error, "something_new");
      return true;
    },
  );
});

Deno.test("parseCallback() reports an error even when a code is present", () => {
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?code=${CODE}&error=server_error&state=${STATE}`,
        { state: STATE },
      ),
    hasCode("authorization_error"),
  );
});

Deno.test("parseCallback() never quotes the code, even from an error_description", () => {
  assert.throws(
    () =>
      parseCallback(
        looker,
        new URLSearchParams({
          code: CODE,
          error: "server_error",
          error_description: `could not issue ${CODE}`,
          state: STATE,
        }),
        { state: STATE },
      ),
    hasCode("authorization_error"),
  );
});

// code

Deno.test("parseCallback() rejects a missing code", () => {
  assert.throws(
    () => parseCallback(looker, `${BASE}?&state=${STATE}`, { state: STATE }),
    hasCode("invalid_callback"),
  );
});

Deno.test("parseCallback() rejects an empty code", () => {
  assert.throws(
    () =>
      parseCallback(looker, `${BASE}?&code=&state=${STATE}`, { state: STATE }),
    hasCode("invalid_callback"),
  );
});

Deno.test("parseCallback() rejects a duplicated code", () => {
  assert.throws(
    () =>
      parseCallback(
        looker,
        `${BASE}?code=${CODE}&code=${CODE}x&state=${STATE}`,
        { state: STATE },
      ),
    hasCode("invalid_callback"),
  );
});

Deno.test("parseCallback() rejects implicit and hybrid flow responses", () => {
  for (const extra of ["id_token=abcd", "token=abcd"]) {
    assert.throws(
      () =>
        parseCallback(
          looker,
          `${BASE}?code=${CODE}&state=${STATE}&${extra}`,
          { state: STATE },
        ),
      hasCode("invalid_callback"),
      extra,
    );
  }
});

Deno.test("parseCallback() rejects a callback that is not a URL, string or URLSearchParams", () => {
  assert.throws(
    () =>
      parseCallback(looker, 42 as unknown as string, {
        state: STATE,
      }),
    hasCode("invalid_argument"),
  );
});

Deno.test("parseCallback() messages never contain the code value", () => {
  const cases: [string, OAuthErrorCode][] = [
    [`?code=${CODE}&state=forged`, "state_mismatch"],
    [`?code=${CODE}`, "state_mismatch"],
    [`?code=${CODE}&state=${STATE}&state=${STATE}`, "state_mismatch"],
    [`?code=${CODE}&code=${CODE}&state=${STATE}`, "invalid_callback"],
    [`?code=${CODE}&state=${STATE}&iss=x`, "iss_mismatch"],
    [`?code=${CODE}&state=${STATE}&error=e&error=e`, "invalid_callback"],
    [`?code=${CODE}&state=${STATE}&id_token=x`, "invalid_callback"],
    [`?code=${CODE}&state=${STATE}&error=access_denied`, "access_denied"],
  ];
  for (const [query, code] of cases) {
    assert.throws(
      () => parseCallback(looker, `${BASE}${query}`, { state: STATE }),
      hasCode(code),
      query,
    );
  }
});

Deno.test("parseCallback() hints follow the server kind and its error_description, never a wrong cause", () => {
  const hintOf = (
    server: typeof looker,
    error: string,
    description?: string,
  ): string => {
    const query = new URLSearchParams({ error, state: STATE });
    if (description !== undefined) {
      query.set("error_description", description);
    }
    try {
      parseCallback(server, `${BASE}?${query}`, { state: STATE });
    } catch (err) {
      hasCode("authorization_error")(err);
      return (err as OAuthError).hint ?? "";
    }
    throw new Error("no error");
  };
  const cases: [
    server: typeof looker,
    error: string,
    description: string | undefined,
    points: RegExp,
    never: RegExp,
  ][] = [
    // An invalid_request says nothing about the redirect URI by itself.
    [plain, "invalid_request", undefined, /client's settings/, /redirect/i],
    [plain, "invalid_request", "nonce required", /nonce/, /redirect|Looker/i],
    [looker, "invalid_request", "nonce required", /nonce/, /redirect/i],
    [
      looker,
      "invalid_request",
      "code_challenge is required (PKCE)",
      /PKCE/,
      /redirect/i,
    ],
    [
      plain,
      "invalid_request",
      "redirect_uri did not match any registered",
      /redirect URI/,
      /Looker|OAuth client app/,
    ],
    [
      looker,
      "invalid_request",
      "redirect_uri mismatch",
      /OAuth client app/,
      /nonce/,
    ],
    [plain, "invalid_scope", undefined, /scopes the server offers/, /cors_api/],
    [looker, "invalid_scope", undefined, /cors_api/, /redirect/i],
    [plain, "unauthorized_client", undefined, /public client/, /client_guid/],
    [looker, "unauthorized_client", undefined, /client_guid/, /redirect/i],
  ];
  for (const [server, error, description, points, never] of cases) {
    const hint = hintOf(server, error, description);
    const what = `${server.looker ? "Looker" : "generic"} ${error} ${
      description ?? ""
    }: ${hint}`;
    assert.match(hint, points, what);
    assert.doesNotMatch(hint, never, what);
  }
});
