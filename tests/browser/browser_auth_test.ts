// BrowserAuth against the Looker emulator outside a browser (Deno has
// sessionStorage; the page itself is tested in Chromium): callback, API
// calls, a refresh sent as JSON, sign-out.
import assert from "node:assert/strict";
import {
  beginSignIn,
  BrowserAuth,
  DEFAULT_PENDING_KEY,
} from "../../src/browser/mod.ts";
import { startLookerEmulator } from "../../src/emulator/looker_emulator.ts";
import { oauthErrorWith } from "../_errors.ts";
import { browseToCallback, startRedirectTarget } from "../_redirect_target.ts";
import { MapStorage } from "./_storage.ts";

const CLIENT_ID = "browser-auth-tests";

Deno.test("BrowserAuth signs in, calls the API, refreshes as JSON and signs out", async () => {
  await using target = startRedirectTarget();
  await using looker = await startLookerEmulator({
    apps: [{
      client_guid: CLIENT_ID,
      redirect_uri: target.redirectUri,
      display_name: "BrowserAuth tests",
      description: "Signs in from the BrowserAuth tests",
      enabled: true,
    }],
  });
  const bodies: { type: string | null; body: string }[] = [];
  const storage = new MapStorage();
  const auth = new BrowserAuth({
    lookerUrl: looker.lookerUrl,
    apiUrl: looker.apiUrl,
    clientId: CLIENT_ID,
    redirectUri: target.redirectUri,
    storage,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      if (request.url.endsWith("/api/token")) {
        bodies.push({
          type: request.headers.get("content-type"),
          body: await request.clone().text(),
        });
      }
      return await fetch(request);
    },
  });
  assert.equal(await auth.isSignedIn(), false);
  await assert.rejects(auth.getAccessToken(), oauthErrorWith("login_required"));

  // The sign-in BrowserAuth.signIn() starts, without the navigation.
  const url = await beginSignIn(auth.server, {
    clientId: CLIENT_ID,
    redirectUri: target.redirectUri,
  });
  const callback = await browseToCallback(target, url, "approve");
  const tokens = await auth.handleCallback(callback);
  assert.ok(tokens);
  assert.equal(sessionStorage.getItem(DEFAULT_PENDING_KEY), null);
  assert.equal(await auth.isSignedIn(), true);
  assert.deepEqual(await auth.store.load(), tokens);

  const me = await (await auth.fetch("/api/4.0/user")).json();
  assert.equal(typeof me.display_name, "string");
  // The token goes to the API host only.
  await assert.rejects(
    auth.fetch("https://elsewhere.example/api/4.0/user"),
    oauthErrorWith("invalid_argument"),
  );

  // An expired access token: the next call refreshes, as JSON.
  looker.expireAccessTokens();
  assert.equal((await auth.fetch("/api/4.0/user")).status, 200);
  assert.equal(looker.stats.refreshes, 1);
  const refresh = bodies.at(-1)!;
  assert.equal(refresh.type, "application/json");
  assert.deepEqual(Object.keys(JSON.parse(refresh.body)).sort(), [
    "client_id",
    "grant_type",
    "redirect_uri",
    "refresh_token",
  ]);

  assert.equal(await auth.signOut(), true);
  assert.equal(looker.stats.logouts, 1);
  assert.equal(await auth.isSignedIn(), false);
  assert.deepEqual(storage.keys(), []);
});

Deno.test("BrowserAuth needs a server", () => {
  assert.throws(
    () => new BrowserAuth({ clientId: "x", redirectUri: "http://127.0.0.1/" }),
    oauthErrorWith("invalid_argument"),
  );
});
