// `status --all`: every profile, its instance, user, expiry and whether a
// refresh token is held, as a table and as JSON; and `status --debug`
// naming where each setting comes from.
import assert from "node:assert/strict";
import { cli, signIn, startLooker, tempHome } from "../_cli.ts";

Deno.test("status --all lists three profiles on two instances, signed in or not", async () => {
  await using t = await tempHome();
  await using one = await startLooker();
  await using two = await startLooker({ rotateRefreshTokens: false });
  await signIn(t, one);
  await signIn(t, one, { args: ["--profile", "work"] });
  await signIn(t, two, { args: ["--profile", "other"] });
  // "work" is signed out: its token file is gone.
  await Deno.remove(t.tokenFile("work"));

  const json = await cli(["status", "--all", "--json"], { home: t.home });
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as {
    profile: string;
    signedIn: boolean;
    instance: string;
    user: { email?: string } | null;
    accessToken: { expired: boolean; expiresInSeconds: number } | null;
    refreshToken: boolean;
  }[];
  assert.deepEqual(rows.map((r) => r.profile), ["default", "other", "work"]);
  assert.deepEqual(rows.map((r) => r.signedIn), [true, true, false]);
  assert.deepEqual(rows.map((r) => r.instance), [
    one.emulator.lookerUrl,
    two.emulator.lookerUrl,
    one.emulator.lookerUrl,
  ]);
  assert.deepEqual(rows.map((r) => r.refreshToken), [true, true, false]);
  assert.equal(rows[0]!.user?.email, "ada@example.com");
  assert.ok(rows[0]!.accessToken!.expiresInSeconds > 3000);
  assert.equal(rows[2]!.accessToken, null);
  assert.ok(!json.stdout.includes('accessToken": "')); // no token printed

  const table = await cli(["status", "--all"], { home: t.home });
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 4);
  assert.match(
    lines[0]!,
    /^PROFILE\s+INSTANCE\s+USER\s+ACCESS TOKEN\s+REFRESH TOKEN$/,
  );
  assert.match(lines[1]!, /^default\s.*ada@example\.com\s+valid for .*\syes$/);
  assert.match(lines[3]!, /^work\s.*signed out\s+no$/);

  const usage = await cli(["status", "--all", "--profile", "work"], {
    home: t.home,
  });
  assert.equal(usage.code, 2);
});

Deno.test("status --all with no profile exits 3", async () => {
  await using t = await tempHome();
  const out = await cli(["status", "--all"], { home: t.home });
  assert.equal(out.code, 3);
  const json = await cli(["status", "--all", "--json"], { home: t.home });
  assert.equal(json.code, 3);
  assert.deepEqual(JSON.parse(json.stdout), []);
});

Deno.test("status --debug says where the profile, the state folder, the CA file and the timeout come from", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const out = await cli(["status", "--debug"], {
    home: t.home,
    env: { LOOKER_OAUTH_PROFILE: "default", LOOKERSDK_TIMEOUT: "45" },
  });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /profile "default" from LOOKER_OAUTH_PROFILE/);
  assert.match(out.stderr, /state folder .* from LOOKER_OAUTH_HOME/);
  assert.match(out.stderr, /API timeout 45 s from LOOKERSDK_TIMEOUT/);
  assert.match(out.stderr, /CA file: none/);
});
