// LookerSdkSession: the official Looker40SDK calling the emulator on the
// tokens of a `looker-oauth login`, refreshing only through the session.
import assert from "node:assert/strict";
import { Looker40SDK } from "@looker/sdk";
import { lookerServer } from "../../src/core/server.ts";
import { TokenSession } from "../../src/core/session.ts";
import { MemoryTokenStore } from "../../src/core/store.ts";
import { LookerSdkSession } from "../../src/looker_sdk/mod.ts";
import { oauthErrorWith } from "../_errors.ts";
import {
  cli,
  exists,
  expireTokenFile,
  readTokenFile,
  signIn,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { serveRecording } from "../_recording_server.ts";

const noEnv = () => undefined;

Deno.test("LookerSdkSession.fromProfile() lets Looker40SDK call me() on the CLI's sign-in", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const sdk = new Looker40SDK(
    await LookerSdkSession.fromProfile(undefined, { home: t.home, env: noEnv }),
  );
  const me = await sdk.ok(sdk.me());
  assert.equal(me.display_name, "Ada Lovelace");
  assert.equal(me.email, "ada@example.com");
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("LookerSdkSession refreshes an expired token once, through the session, and the CLI keeps working", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const before = await expireTokenFile(t.tokenFile());
  const session = await LookerSdkSession.fromProfile("default", {
    home: t.home,
    env: noEnv,
  });
  assert.equal(session.isAuthenticated(), false);
  const sdk = new Looker40SDK(session);
  const users = await Promise.all([
    sdk.ok(sdk.me()),
    sdk.ok(sdk.me()),
    sdk.ok(sdk.me()),
  ]);
  assert.deepEqual(users.map((u) => u.id), ["1", "1", "1"]);
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(session.isAuthenticated(), true);
  const after = await readTokenFile(t.tokenFile());
  // The emulator rotates: the new refresh token was saved for the CLI.
  assert.notEqual(after.tokens.refreshToken, before.tokens.refreshToken);
  // The CLI refreshes with it later: no reuse, the grant is intact.
  await expireTokenFile(t.tokenFile());
  const api = await cli(["api", "/api/4.0/user"], { home: t.home });
  assert.equal(api.code, 0, api.stderr);
  assert.equal(looker.emulator.stats.refreshes, 2);
  assert.equal(looker.emulator.stats.refreshReuses, 0);
});

Deno.test("LookerSdkSession never gives the SDK the refresh token", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  const refreshToken = file.tokens.refreshToken;
  assert.ok(refreshToken);
  const session = await LookerSdkSession.fromProfile(undefined, {
    home: t.home,
    env: noEnv,
  });
  const token = await session.getToken();
  assert.equal(token.access_token, file.tokens.accessToken);
  assert.ok(!token.refresh_token);
  assert.ok((token.expires_in ?? 0) > 3000);
  assert.ok(!JSON.stringify([token, session.settings]).includes(refreshToken));
});

Deno.test("LookerSdkSession refreshes once and retries once after a 401", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const sdk = new Looker40SDK(
    await LookerSdkSession.fromProfile(undefined, { home: t.home, env: noEnv }),
  );
  looker.emulator.expireAccessTokens();
  const me = await sdk.ok(sdk.me());
  assert.equal(me.id, "1");
  assert.equal(looker.emulator.stats.refreshes, 1);
});

Deno.test("LookerSdkSession.logout() ends the grant on Looker and forgets the tokens", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const session = await LookerSdkSession.fromProfile(undefined, {
    home: t.home,
    env: noEnv,
  });
  const sdk = new Looker40SDK(session);
  await sdk.ok(sdk.me());
  assert.equal(await sdk.authSession.logout(), true);
  assert.equal(looker.emulator.stats.logouts, 1);
  assert.equal(await exists(t.tokenFile()), false);
  assert.equal(session.isAuthenticated(), false);
  const status = await cli(["status"], { home: t.home });
  assert.equal(status.code, 3);
  await assert.rejects(sdk.ok(sdk.me()));
});

Deno.test("LookerSdkSession sends the token to the API host only", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  await using elsewhere = serveRecording(() => Response.json({ id: "x" }));
  const sdk = new Looker40SDK(
    await LookerSdkSession.fromProfile(undefined, { home: t.home, env: noEnv }),
  );
  const result = await sdk.get(`${elsewhere.base}/api/4.0/user`);
  assert.equal(result.ok, false);
  assert.equal(elsewhere.requests.length, 0);
});

Deno.test("LookerSdkSession.fromProfile() of an unknown profile asks to sign in", async () => {
  await using t = await tempHome();
  await assert.rejects(
    LookerSdkSession.fromProfile("nobody", { home: t.home, env: noEnv }),
    oauthErrorWith("login_required"),
  );
});

Deno.test("LookerSdkSession refuses sudo: it needs an API3 key", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const session = await LookerSdkSession.fromProfile(undefined, {
    home: t.home,
    env: noEnv,
  });
  await assert.rejects(session.login(42), oauthErrorWith("unsupported"));
  assert.equal(session.isSudo(), false);
});

Deno.test("LookerSdkSession refuses a stored access token no header can carry (login_required) and sends nothing", async () => {
  await using api = serveRecording(() => Response.json({ id: "1" }));
  for (const accessToken of ["a\r\nX-Injected: 1", "a\u0000", "a\x1b[2J"]) {
    const session = new LookerSdkSession({
      session: new TokenSession({
        server: lookerServer({ lookerUrl: api.base, apiUrl: api.base }),
        clientId: "looker-oauth",
        store: new MemoryTokenStore({
          accessToken,
          tokenType: "bearer",
          expiresAt: Date.now() + 3600_000,
        }),
      }),
      apiUrl: api.base,
    });
    await assert.rejects(
      session.authenticate(
        {
          method: "GET",
          url: `${api.base}/api/4.0/user`,
          headers: {},
        } as unknown as Parameters<LookerSdkSession["authenticate"]>[0],
      ),
      oauthErrorWith("login_required"),
    );
  }
  assert.equal(api.requests.length, 0);
});

Deno.test("LookerSdkSession refuses a plain-http API URL off loopback unless allowInsecureHttp is set", () => {
  const session = new TokenSession({
    server: lookerServer({ lookerUrl: "https://example.looker.com" }),
    clientId: "c",
    store: new MemoryTokenStore(),
  });
  assert.throws(
    () => new LookerSdkSession({ session, apiUrl: "http://192.0.2.1:19999" }),
    oauthErrorWith("insecure_http"),
  );
  // Loopback is plain http's one safe place; the opt-in covers the rest.
  new LookerSdkSession({ session, apiUrl: "http://127.0.0.1:19999" });
  new LookerSdkSession({
    session,
    apiUrl: "http://192.0.2.1:19999",
    allowInsecureHttp: true,
  });
});
