// `looker-oauth logout`, end to end: the server ends the session, the local
// tokens go, the profile's settings stay.
import assert from "node:assert/strict";
import { parseLogout } from "../../src/cli/logout.ts";
import {
  type OidcProviderOptions,
  startOidcProvider,
} from "../_oidc_provider.ts";
import {
  assertParses,
  cli,
  exists,
  expireTokenFile,
  readTokenFile,
  signIn,
  startLooker,
  type TempHome,
  tempHome,
} from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";

/** Signs in to a fresh oidc-provider with `login --issuer`. */
async function signInToProvider(t: TempHome, options: OidcProviderOptions) {
  const op = await startOidcProvider(options);
  const login = await cli(
    ["login", "--issuer", op.issuer, "--client-id", op.clientId],
    { home: t.home, person: scriptedPerson() },
  );
  assert.equal(login.code, 0, login.stderr);
  return { op, file: await readTokenFile(t.tokenFile()) };
}

Deno.test("parseLogout() reads --profile and --local", () => {
  assertParses(parseLogout, "logout", [
    [[], { profile: undefined, local: false }],
    [["--local"], { profile: undefined, local: true }],
    [["--profile=work", "--local"], { profile: "work", local: true }],
    [["--locl"], /did you mean --local\?/],
    [["--profile"], /--profile needs a value/],
  ]);
});

Deno.test("logout ends the session on Looker, deletes the tokens, keeps the settings; login needs no flags afterwards", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { emulator } = looker;
  const { file } = await signIn(t, looker);

  const logout = await cli(["logout"], { home: t.home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(logout.stdout, "");
  assert.match(logout.stderr, /Signed out of/);
  assert.equal(emulator.stats.logouts, 1);
  assert.equal(await exists(t.tokenFile()), false);

  // The server no longer honours the old tokens.
  const me = await fetch(`${emulator.apiUrl}/api/4.0/user`, {
    headers: { authorization: `Bearer ${file.tokens.accessToken}` },
  });
  await me.body?.cancel();
  assert.equal(me.status, 401);
  const refresh = await fetch(`${emulator.apiUrl}/api/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: file.tokens.refreshToken!,
      client_id: looker.clientId,
      redirect_uri: looker.redirectUri,
    }),
  });
  assert.equal((await refresh.json()).error, "invalid_grant");

  for (const args of [["token"], ["api", "/user"]]) {
    const after = await cli(args, { home: t.home });
    assert.equal(after.code, 3, after.stderr);
  }
  const config = JSON.parse(await Deno.readTextFile(`${t.home}/config.json`));
  assert.equal(config.profiles.default.clientId, looker.clientId);

  const again = await cli(["login"], {
    home: t.home,
    person: scriptedPerson(),
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(emulator.stats.codeExchanges, 2);
  assert.equal((await cli(["token"], { home: t.home })).code, 0);
});

Deno.test("logout with an expired access token refreshes it first, so Looker can end the session", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  await expireTokenFile(t.tokenFile());
  const logout = await cli(["logout"], { home: t.home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(looker.emulator.stats.logouts, 1);
  assert.equal(await exists(t.tokenFile()), false);
});

Deno.test("logout when Looker cannot be reached: exit 1, the tokens are kept, and --local is suggested", async () => {
  await using t = await tempHome();
  const looker = await startLooker();
  const { file } = await signIn(t, looker);
  await looker.emulator.close();
  const logout = await cli(["logout"], { home: t.home });
  assert.equal(logout.code, 1, logout.stderr);
  assert.match(logout.stderr, /logout --local/);
  assert.deepEqual(await readTokenFile(t.tokenFile()), file);

  const local = await cli(["logout", "--local"], { home: t.home });
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stderr, /not contacted/);
  assert.equal(await exists(t.tokenFile()), false);
});

Deno.test("logout when not signed in: exit 0, nothing to do", async () => {
  await using t = await tempHome();
  const logout = await cli(["logout"], { home: t.home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.match(logout.stderr, /nothing to do/);
  assert.equal(logout.stdout, "");
});

Deno.test("logout when the provider does not let a public client revoke: exit 0 with a warning, the local tokens are deleted", async () => {
  await using t = await tempHome();
  const { op } = await signInToProvider(t, {
    revocationAuthMethods: ["client_secret_basic"],
    revocationAnswer: "401",
  });
  await using _op = op;
  const logout = await cli(["logout"], { home: t.home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(op.stats.revocations, 1);
  assert.equal(await exists(t.tokenFile()), false);
  assert.match(logout.stderr, /^warning: .*public client/m);
  assert.match(logout.stderr, /client_secret_basic/);
  assert.doesNotMatch(logout.stderr, /could not reach|kept/);
  assert.equal((await cli(["token"], { home: t.home })).code, 3);
});

Deno.test("logout when the provider refuses the client for good: exit 0, the local tokens are deleted, and it says the server refused", async () => {
  await using t = await tempHome();
  const { op } = await signInToProvider(t, {
    revocationAnswer: "invalid_client",
  });
  await using _op = op;
  const logout = await cli(["logout"], { home: t.home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(await exists(t.tokenFile()), false);
  assert.match(logout.stderr, /^warning: .* refused .*invalid_client/m);
  assert.doesNotMatch(logout.stderr, /could not reach|kept/);
});

for (
  const [name, setUp, says] of [
    [
      "is down",
      async (op: { close(): Promise<void> }) => await op.close(),
      /could not reach/,
    ],
    ["answers 503", () => Promise.resolve(), /failed .*503/],
  ] as const
) {
  Deno.test(`logout when the provider ${name}: exit 1, the tokens are kept, and it says which failure`, async () => {
    await using t = await tempHome();
    const { op, file } = await signInToProvider(t, {
      ...(name === "answers 503" ? { revocationAnswer: "503" as const } : {}),
    });
    await using _op = op;
    await setUp(op);
    const logout = await cli(["logout"], { home: t.home });
    assert.equal(logout.code, 1, logout.stderr);
    assert.match(logout.stderr, says);
    assert.match(logout.stderr, /tokens are kept/);
    assert.match(logout.stderr, /logout --local/);
    assert.deepEqual(await readTokenFile(t.tokenFile()), file);
  });
}
