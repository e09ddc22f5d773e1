// `looker-oauth status`, end to end: who, where, until when; offline.
import assert from "node:assert/strict";
import { parseStatus } from "../../src/cli/status.ts";
import {
  assertParses,
  cli,
  expireTokenFile,
  readTokenFile,
  signIn,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";

Deno.test("parseStatus() reads --profile, --all and --json", () => {
  assertParses(parseStatus, "status", [
    [[], { profile: undefined, json: false, all: false }],
    [["--json"], { profile: undefined, json: true, all: false }],
    [["--profile", "work", "--json"], {
      profile: "work",
      json: true,
      all: false,
    }],
    [["--no-json"], { profile: undefined, json: false, all: false }],
    [["--all", "--json"], { profile: undefined, json: true, all: true }],
    [["--all", "--profile", "work"], /--all shows every profile/],
    [["--jsno"], /unknown flag --jsno/],
    [["--json=yes"], /--json takes no value/],
    [["work"], /unexpected argument: work/],
  ]);
});

Deno.test("status shows who is signed in, where, with which client, and until when, offline and without tokens", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  const { emulator } = looker;
  const before = { ...emulator.stats };

  const human = await cli(["status"], { home: t.home });
  assert.equal(human.code, 0, human.stderr);
  const [first, ...rest] = human.stdout.trimEnd().split("\n");
  assert.equal(
    first,
    `Signed in to ${emulator.lookerUrl} (API ${emulator.apiUrl}) as Ada Lovelace <ada@example.com>`,
  );
  const fields = Object.fromEntries(
    rest.map((line) => {
      const [key, ...value] = line.trim().split(/:\s+/);
      return [key, value.join(": ")];
    }),
  );
  assert.equal(fields["profile"], "default");
  assert.equal(fields["client id"], looker.clientId);
  assert.equal(fields["redirect URI"], looker.redirectUri);
  assert.equal(fields["token file"], t.tokenFile());
  assert.match(fields["access token"]!, /^valid for \d+ min/);
  assert.match(fields["refresh token"]!, /^yes/);

  const json = await cli(["status", "--json"], { home: t.home });
  assert.equal(json.code, 0, json.stderr);
  const status = JSON.parse(json.stdout);
  assert.equal(status.profile, "default");
  assert.equal(status.signedIn, true);
  assert.deepEqual(status.server, {
    kind: "looker",
    lookerUrl: emulator.lookerUrl,
    apiUrl: emulator.apiUrl,
  });
  assert.equal(status.clientId, looker.clientId);
  assert.equal(status.redirectUri, looker.redirectUri);
  assert.deepEqual(status.user, {
    id: "1",
    displayName: "Ada Lovelace",
    email: "ada@example.com",
  });
  assert.equal(status.accessToken.expired, false);
  assert.equal(
    Date.parse(status.accessToken.expiresAt),
    file.tokens.expiresAt,
  );
  assert.ok(status.accessToken.expiresInSeconds > 3000);
  assert.equal(status.refreshToken, true);
  assert.equal(status.tokenFile, t.tokenFile());

  for (const out of [human.stdout, json.stdout, human.stderr, json.stderr]) {
    assert.ok(!out.includes(file.tokens.accessToken), "no access token");
    assert.ok(!out.includes(file.tokens.refreshToken!), "no refresh token");
  }
  assert.deepEqual({ ...emulator.stats }, before, "status is offline");
});

Deno.test("status with an expired access token: still signed in (exit 0), says it expired, does not refresh", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  await expireTokenFile(t.tokenFile());
  const human = await cli(["status"], { home: t.home });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /access token:\s+expired \d+ s ago/);
  const json = await cli(["status", "--json"], { home: t.home });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).accessToken.expired, true);
  assert.equal(looker.emulator.stats.refreshes, 0);
  const { tokens } = await readTokenFile(t.tokenFile());
  assert.ok(tokens.expiresAt < Date.now());
});

Deno.test("status when not signed in: exit 3, in both forms", async () => {
  await using t = await tempHome();
  const human = await cli(["status"], { home: t.home });
  assert.equal(human.code, 3, human.stderr);
  assert.match(human.stdout, /^Not signed in \(profile "default"\)\.$/m);
  assert.match(human.stderr, /looker-oauth login --looker-url URL/);
  const json = await cli(["status", "--json", "--profile", "work"], {
    home: t.home,
  });
  assert.equal(json.code, 3, json.stderr);
  const status = JSON.parse(json.stdout);
  assert.equal(status.profile, "work");
  assert.equal(status.signedIn, false);
  assert.equal(status.accessToken, null);
});

Deno.test("status and token use the profile from --profile or LOOKER_OAUTH_PROFILE", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const work = await cli(
    ["login", ...looker.loginArgs, "--profile", "work"],
    {
      home: t.home,
      person: scriptedPerson(),
    },
  );
  assert.equal(work.code, 0, work.stderr);
  const { tokens } = await readTokenFile(t.tokenFile("work"));
  assert.equal((await cli(["status"], { home: t.home })).code, 3);
  const byFlag = await cli(["token", "--profile", "work"], { home: t.home });
  assert.equal(byFlag.stdout, `${tokens.accessToken}\n`);
  const byEnv = await cli(["status", "--json"], {
    home: t.home,
    env: { LOOKER_OAUTH_PROFILE: "work" },
  });
  assert.equal(byEnv.code, 0, byEnv.stderr);
  assert.equal(JSON.parse(byEnv.stdout).profile, "work");
});
