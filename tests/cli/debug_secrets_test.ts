// --debug never prints a secret: a whole session, every command
// with --debug, every output stream grepped for every access token, refresh
// token and authorization code it handled. Only `token`'s stdout may hold an
// access token (the current one, alone). The PKCE verifier never leaves the
// process, so it cannot be collected here; no output may carry a
// `code_verifier` parameter either.
import assert from "node:assert/strict";
import {
  cli,
  type CliResult,
  expireTokenFile,
  readTokenFile,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { type Person, scriptedPerson } from "../_io.ts";

Deno.test("with --debug, no output of a whole session holds a token or code, except token's stdout", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { emulator } = looker;
  const home = t.home;
  const secrets = new Set<string>();
  const runs: { what: string; result: CliResult; token?: string }[] = [];
  const run = async (
    args: string[],
    options: { person?: Person; expect?: number } = {},
  ) => {
    const result = await cli(["--debug", ...args], {
      home,
      ...(options.person ? { person: options.person } : {}),
    });
    assert.equal(result.code, options.expect ?? 0, result.stderr);
    runs.push({ what: args.join(" "), result });
    return result;
  };
  // Every token the server issues, read from its answers.
  let failRefresh: string | undefined;
  emulator.tokenResponseFilter = async (response, grantType) => {
    if (failRefresh !== undefined && grantType === "refresh_token") {
      await response.body?.cancel();
      return Response.json({
        error: "temporarily_unavailable",
        error_description: `busy; your refresh_token was ${failRefresh}`,
      }, { status: 503 });
    }
    const body = await response.clone().json();
    for (const key of ["access_token", "refresh_token"]) {
      if (typeof body[key] === "string") secrets.add(body[key]);
    }
    return response;
  };
  const current = async () => (await readTokenFile(t.tokenFile())).tokens;

  const person = scriptedPerson();
  await run(["login", ...looker.loginArgs], { person });
  const code = person.visits[0]?.code;
  assert.ok(code && code.length > 0);
  secrets.add(code);

  let tokens = await current();
  const token = await run(["token"]);
  runs.at(-1)!.token = tokens.accessToken;
  assert.equal(token.stdout, `${tokens.accessToken}\n`);
  await run(["api", "/user"]);
  await run(["api", "-X", "PATCH", "/user", "--data", "{}"], { expect: 1 });
  await run(["status"]);
  await run(["status", "--json"]);

  // A refresh because the token expired.
  await expireTokenFile(t.tokenFile());
  await run(["token"]);
  tokens = await current();
  runs.at(-1)!.token = tokens.accessToken;
  assert.equal(emulator.stats.refreshes, 1);

  // A refresh because the API said 401.
  emulator.expireAccessTokens();
  await run(["api", "/user"]);
  assert.equal(emulator.stats.refreshes, 2);

  // A refresh that fails with an answer quoting the refresh token (before
  // any rotation, so the refresh token stays good).
  await expireTokenFile(t.tokenFile());
  failRefresh = (await current()).refreshToken;
  emulator.rotateRefreshTokens = false;
  await run(["token"], { expect: 1 });
  failRefresh = undefined;
  emulator.rotateRefreshTokens = true;

  // Logout, with a refresh first (the token is still expired).
  await run(["logout"]);
  assert.equal(emulator.stats.refreshes, 4);
  assert.equal(emulator.stats.logouts, 1);
  assert.equal(emulator.stats.refreshReuses, 0);
  await run(["token"], { expect: 3 });
  await run(["status"], { expect: 3 });

  assert.equal(secrets.size, 9, "1 code, 4 access and 4 refresh tokens");
  const debugLines = runs.reduce(
    (n, { result }) => n + (result.stderr.match(/^debug: /gm)?.length ?? 0),
    0,
  );
  assert.ok(debugLines >= 10, "--debug printed requests and responses");
  assert.match(runs[0]!.result.stderr, /^debug: → POST .*\/api\/token$/m);

  for (const { what, result, token } of runs) {
    const streams: [string, string][] = [
      ["stderr", result.stderr],
      [
        "stdout",
        token ? result.stdout.replace(`${token}\n`, "") : result.stdout,
      ],
    ];
    for (const [name, text] of streams) {
      for (const secret of secrets) {
        assert.ok(
          !text.includes(secret),
          `${what}: a secret on ${name}:\n${text}`,
        );
      }
      assert.doesNotMatch(text, /code_verifier/, `${what}: ${name}`);
    }
  }
});
