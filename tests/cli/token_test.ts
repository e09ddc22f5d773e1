// `looker-oauth token`: its flags, the cached token, refresh, and every way
// a refresh can fail; in-process, one run as a process for stdout's purity.
import assert from "node:assert/strict";
import { parseToken } from "../../src/cli/token.ts";
import {
  assertParses,
  cli,
  exists,
  expireTokenFile,
  hasStackTrace,
  lines,
  modeOf,
  readTokenFile,
  runCli,
  signIn,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";

Deno.test("parseToken() reads --profile; anything else is a usage error", () => {
  assertParses(parseToken, "token", [
    [[], { profile: undefined }],
    [["--profile", "work"], { profile: "work" }],
    [["--profile=work"], { profile: "work" }],
    [["--profile"], /--profile needs a value/],
    [["--profil", "x"], /did you mean --profile\?/],
    [["extra"], /unexpected argument: extra/],
  ]);
});

Deno.test("token prints the stored access token alone on one line, without asking the server", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  const before = { ...looker.emulator.stats };
  const token = await runCli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${file.tokens.accessToken}\n`);
  assert.equal(lines(token.stdout).length, 1);
  assert.equal(token.stderr, "");
  assert.deepEqual({ ...looker.emulator.stats }, before, "no request");
});

Deno.test("token without a sign-in: exit 3, nothing on stdout, a hint to sign in", async () => {
  await using t = await tempHome();
  for (const args of [["token"], ["token", "--profile", "work"]]) {
    const token = await cli(args, { home: t.home });
    assert.equal(token.code, 3, token.stderr);
    assert.equal(token.stdout, "");
    assert.match(token.stderr, /not signed in/);
    assert.match(
      token.stderr,
      args.length > 1
        ? /looker-oauth login --profile work/
        : /looker-oauth login$/m,
    );
  }
});

Deno.test("an expired access token: token refreshes once and prints the new token", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  await expireTokenFile(t.tokenFile());
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(looker.emulator.stats.refreshes, 1);
  const after = await readTokenFile(t.tokenFile());
  assert.notEqual(after.tokens.accessToken, file.tokens.accessToken);
  assert.notEqual(after.tokens.refreshToken, file.tokens.refreshToken);
  assert.equal(token.stdout, `${after.tokens.accessToken}\n`);
  assert.ok(after.tokens.expiresAt > Date.now() + 60_000);
  assert.equal(await modeOf(t.tokenFile()), 0o600, "still 0600");
  // The new token works, and the next call needs no refresh.
  const again = await cli(["token"], { home: t.home });
  assert.equal(again.stdout, token.stdout);
  assert.equal(looker.emulator.stats.refreshes, 1);
});

Deno.test("a Looker that does not rotate: the refresh keeps the refresh token", async () => {
  await using t = await tempHome();
  await using looker = await startLooker({ rotateRefreshTokens: false });
  const { file } = await signIn(t, looker);
  await expireTokenFile(t.tokenFile());
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  const after = await readTokenFile(t.tokenFile());
  assert.equal(after.tokens.refreshToken, file.tokens.refreshToken);
  assert.notEqual(after.tokens.accessToken, file.tokens.accessToken);
});

Deno.test("a refused refresh (the grant was revoked): exit 3 'sign in again', and the token file is removed", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  // The session ends elsewhere (another client logs out with the token).
  const out = await fetch(`${looker.emulator.apiUrl}/api/4.0/logout`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${file.tokens.accessToken}` },
  });
  assert.equal(out.status, 204);
  await expireTokenFile(t.tokenFile());
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 3, token.stderr);
  assert.equal(token.stdout, "");
  assert.match(token.stderr, /sign in again/);
  assert.ok(!hasStackTrace(token.stderr), token.stderr);
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(await exists(t.tokenFile()), false);
  // Signed out now: no further request.
  const again = await cli(["token"], { home: t.home });
  assert.equal(again.code, 3);
  assert.equal(looker.emulator.stats.refreshes, 1);
});

Deno.test("a Looker that answers refresh_token, scope and id_token as null: sign-in and refresh work, the refresh token is kept", async () => {
  await using t = await tempHome();
  await using looker = await startLooker({
    rotateRefreshTokens: false,
    nullOptionalMembers: true,
  });
  const { file } = await signIn(t, looker);
  assert.equal(typeof file.tokens.refreshToken, "string");
  assert.equal("scope" in file.tokens, false, "a null scope is no scope");
  await expireTokenFile(t.tokenFile());
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(looker.emulator.stats.refreshes, 1);
  const after = await readTokenFile(t.tokenFile());
  assert.equal(after.tokens.refreshToken, file.tokens.refreshToken);
  assert.equal(token.stdout, `${after.tokens.accessToken}\n`);
  // And again: the kept refresh token still works.
  await expireTokenFile(t.tokenFile());
  const again = await cli(["token"], { home: t.home });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(looker.emulator.stats.refreshes, 2);
});

for (const status of [400, 401, 403] as const) {
  Deno.test(`a refresh refused Looker-style ({message, documentation_url}, ${status}): exit 3 'sign in again', the token file removed`, async () => {
    await using t = await tempHome();
    await using looker = await startLooker({ lookerStyleRefusals: status });
    const { file } = await signIn(t, looker);
    const out = await fetch(`${looker.emulator.apiUrl}/api/4.0/logout`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${file.tokens.accessToken}` },
    });
    assert.equal(out.status, 204);
    await expireTokenFile(t.tokenFile());
    const token = await cli(["token"], { home: t.home });
    assert.equal(token.code, 3, token.stderr);
    assert.equal(token.stdout, "");
    assert.match(token.stderr, /sign in again/);
    assert.ok(!hasStackTrace(token.stderr), token.stderr);
    assert.equal(await exists(t.tokenFile()), false);
  });
}

/** Rewrites the token answer's `member` to hold `bad`. */
function plant(member: string, bad: string) {
  return async (response: Response): Promise<Response> => {
    if (!response.ok) return response;
    const body = await response.json();
    return Response.json({ ...body, [member]: bad }, {
      headers: { "cache-control": "no-store" },
    });
  };
}

const CONTROL = {
  ESC: "\x1b]0;owned\x07\x1b[2J",
  "CR LF": "\r\nX-Injected: yes",
  NUL: "\0",
};

for (const [name, bad] of Object.entries(CONTROL)) {
  Deno.test(`an access token with ${name} from the token endpoint: login and token refuse it and never print it`, async () => {
    await using t = await tempHome();
    await using looker = await startLooker();
    const planted = `PLANTED-ACCESS-${bad}-TOKEN`;
    looker.emulator.tokenResponseFilter = plant("access_token", planted);
    const login = await cli(["login", ...looker.loginArgs], {
      home: t.home,
      person: scriptedPerson(),
    });
    assert.equal(login.code, 1, login.stderr);
    for (const text of [login.stdout, login.stderr]) {
      assert.ok(!text.includes("PLANTED-ACCESS"), text);
      assert.doesNotMatch(text, /header value/i);
    }
    assert.equal(await exists(t.tokenFile()), false, "nothing saved");
    // A refresh answered the same way.
    looker.emulator.tokenResponseFilter = undefined;
    await signIn(t, looker);
    await expireTokenFile(t.tokenFile());
    looker.emulator.tokenResponseFilter = plant("access_token", planted);
    const token = await cli(["token"], { home: t.home });
    assert.equal(token.code, 1, token.stderr);
    assert.equal(token.stdout, "");
    assert.ok(!token.stderr.includes("PLANTED-ACCESS"), token.stderr);
    for (const command of [["api", "/user"], ["token"]]) {
      const again = await cli(command, { home: t.home });
      assert.ok(!again.stdout.includes("PLANTED"), again.stdout);
      assert.ok(!again.stderr.includes("PLANTED"), again.stderr);
    }
  });
}

Deno.test("a refused refresh while other tokens were saved meanwhile: those are kept and printed, not wiped", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  await expireTokenFile(t.tokenFile());
  const newer = {
    version: 1,
    tokens: {
      ...file.tokens,
      accessToken: "saved-by-someone-else",
      refreshToken: "also-saved-by-someone-else",
      expiresAt: Date.now() + 3_600_000,
    },
  };
  looker.emulator.tokenResponseFilter = async (response, grantType) => {
    if (grantType !== "refresh_token") return response;
    await response.body?.cancel();
    // Another writer replaces the tokens while this refresh is refused.
    await Deno.writeTextFile(t.tokenFile(), JSON.stringify(newer));
    return Response.json({
      error: "invalid_grant",
      error_description: "The refresh token was already used",
    }, { status: 400 });
  };
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, "saved-by-someone-else\n");
  assert.deepEqual(await readTokenFile(t.tokenFile()), newer);
});

/** A secret-echoing token endpoint failure, for the refresh only. */
type Failure = (refreshToken: string, accessToken: string) => Response;

const SERVER_FAILURES: Record<string, Failure> = {
  "500 with an HTML page": () =>
    new Response("<html><body><h1>Internal Server Error</h1></body></html>", {
      status: 500,
      headers: { "content-type": "text/html" },
    }),
  "503 with a JSON error that quotes the refresh token": (rt) =>
    Response.json({
      error: "temporarily_unavailable",
      error_description: `try again later (refresh_token=${rt})`,
    }, { status: 503 }),
};

const MALFORMED: Record<string, Failure> = {
  "200 with an HTML page that quotes the tokens": (rt, at) =>
    new Response(
      `<html><body>Proxy login required for ${rt} / ${at}</body></html>`,
      { status: 200, headers: { "content-type": "text/html" } },
    ),
  "200 with truncated JSON that holds the refresh token": (rt) =>
    new Response(`{"access_token":"${rt}","token_type":"Bearer","expi`, {
      status: 200,
      headers: { "content-type": "application/json" },
    }),
  "200 with JSON but no access_token": (rt) =>
    Response.json({ token_type: "Bearer", refresh_token: rt }),
};

for (
  const [name, failure] of Object.entries({
    ...SERVER_FAILURES,
    ...MALFORMED,
  })
) {
  Deno.test(`refresh answered ${name}: exit 1, no secret on stderr, the token file unchanged`, async () => {
    await using t = await tempHome();
    await using looker = await startLooker({ rotateRefreshTokens: false });
    await signIn(t, looker);
    await expireTokenFile(t.tokenFile());
    const before = await Deno.readTextFile(t.tokenFile());
    const { tokens } = JSON.parse(before);
    looker.emulator.tokenResponseFilter = async (response, grantType) => {
      if (grantType !== "refresh_token") return response;
      await response.body?.cancel();
      return failure(tokens.refreshToken, tokens.accessToken);
    };
    for (const debug of [[], ["--debug"]]) {
      const token = await cli(["token", ...debug], { home: t.home });
      assert.equal(token.code, 1, token.stderr);
      assert.equal(token.stdout, "");
      assert.ok(token.stderr.trim().length > 0, "says what failed");
      for (const secret of [tokens.refreshToken, tokens.accessToken]) {
        assert.ok(!token.stderr.includes(secret), token.stderr);
      }
      assert.ok(!hasStackTrace(token.stderr), token.stderr);
      assert.equal(await Deno.readTextFile(t.tokenFile()), before);
    }
    assert.equal(looker.emulator.stats.refreshes, 2, "one request per run");
  });
}

const LOST: Record<string, () => Response> = {
  "a 502 from a proxy": () => new Response("Bad gateway", { status: 502 }),
  "a connection that breaks mid-body": () =>
    new Response(
      new ReadableStream({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode('{"access_token":"'));
          controller.error(new Error("connection reset"));
        },
      }),
      { status: 200, headers: { "content-type": "application/json" } },
    ),
};

for (const [name, lost] of Object.entries(LOST)) {
  Deno.test(`the refresh answer is lost after the server rotated (${name}): exit 1, then 'sign in again', no retry loop`, async () => {
    await using t = await tempHome();
    await using looker = await startLooker({
      rotateRefreshTokens: true,
      revokeGrantOnRefreshReuse: true,
    });
    await signIn(t, looker);
    await expireTokenFile(t.tokenFile());
    const before = await Deno.readTextFile(t.tokenFile());
    looker.emulator.tokenResponseFilter = async (response, grantType) => {
      if (grantType !== "refresh_token") return response;
      await response.body?.cancel(); // the rotation happened; the answer is lost
      return lost();
    };
    const first = await cli(["token"], { home: t.home });
    assert.equal(first.code, 1, first.stderr);
    assert.equal(first.stdout, "");
    assert.ok(!hasStackTrace(first.stderr), first.stderr);
    assert.equal(looker.emulator.stats.refreshes, 1, "not retried");
    assert.equal(await Deno.readTextFile(t.tokenFile()), before);

    looker.emulator.tokenResponseFilter = undefined;
    const second = await cli(["token"], { home: t.home });
    assert.equal(second.code, 3, second.stderr);
    assert.equal(second.stdout, "");
    assert.match(second.stderr, /sign in again/);
    assert.equal(looker.emulator.stats.refreshes, 2);
    assert.equal(looker.emulator.stats.refreshReuses, 1);
    assert.equal(await exists(t.tokenFile()), false);

    const third = await cli(["token"], { home: t.home });
    assert.equal(third.code, 3, third.stderr);
    assert.equal(looker.emulator.stats.refreshes, 2, "no retry loop");
  });
}

const CORRUPT: Record<string, string> = {
  "not JSON": "{this is not json",
  "truncated": '{"version":1,"tokens":{"accessToken":"abc","tok',
  "empty": "",
  "JSON of the wrong shape": '{"version":1,"tokens":{"accessToken":42}}',
};

for (const [name, text] of Object.entries(CORRUPT)) {
  Deno.test(`a token file that is ${name}: token and status exit 3 with one line about the file and a hint, no stack trace`, async () => {
    await using t = await tempHome();
    await using looker = await startLooker();
    await signIn(t, looker);
    await Deno.writeTextFile(t.tokenFile(), text);
    for (const debug of [[], ["--debug"]]) {
      const token = await cli(["token", ...debug], { home: t.home });
      assert.equal(token.code, 3, token.stderr);
      assert.equal(token.stdout, "");
      const about = lines(token.stderr).filter((line) =>
        line.includes(t.tokenFile())
      );
      assert.equal(about.length, 1, token.stderr);
      assert.match(about[0]!, /signed out/);
      assert.match(token.stderr, /^hint: .*looker-oauth login/m);
      assert.ok(lines(token.stderr).length <= 3, token.stderr);
      assert.ok(!hasStackTrace(token.stderr), token.stderr);
    }
    const status = await cli(["status"], { home: t.home });
    assert.equal(status.code, 3, status.stderr);
    assert.ok(!hasStackTrace(status.stderr), status.stderr);
    const json = await cli(["status", "--json"], { home: t.home });
    assert.equal(json.code, 3, json.stderr);
    assert.equal(JSON.parse(json.stdout).signedIn, false);
    assert.equal(looker.emulator.stats.refreshes, 0);
  });
}

Deno.test("a token file readable by others is tightened to 0600 (with a warning), and still works", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  await Deno.chmod(t.tokenFile(), 0o644);
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${file.tokens.accessToken}\n`);
  assert.match(token.stderr, /0600/);
  assert.equal(await modeOf(t.tokenFile()), 0o600);
});

Deno.test("a symlinked token file is refused, and its target never read", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  const elsewhere = `${t.dir}/elsewhere.json`;
  await Deno.rename(t.tokenFile(), elsewhere);
  await Deno.symlink(elsewhere, t.tokenFile());
  const token = await cli(["token"], { home: t.home });
  assert.notEqual(token.code, 0);
  assert.equal(token.stdout, "");
  assert.ok(!token.stderr.includes(file.tokens.accessToken));
  assert.match(token.stderr, /symbolic link/);
  assert.ok(!hasStackTrace(token.stderr), token.stderr);
});
