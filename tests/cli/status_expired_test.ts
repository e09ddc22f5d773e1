import assert from "node:assert/strict";
import { cli, signIn, startLooker, tempHome } from "../_cli.ts";

Deno.test("status exits 3 when the access token expired and there is no refresh token", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const path = t.tokenFile();
  const file = JSON.parse(await Deno.readTextFile(path));
  delete file.tokens.refreshToken;
  file.tokens.expiresAt = Date.now() - 1000;
  await Deno.writeTextFile(path, JSON.stringify(file));
  const status = await cli(["status", "--json"], { home: t.home });
  assert.equal(status.code, 3, status.stderr);
  const json = JSON.parse(status.stdout);
  assert.equal(json.signedIn, false);
  assert.equal(json.accessToken.expired, true);
  assert.equal(json.refreshToken, false);
});
