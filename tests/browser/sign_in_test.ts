// The browser sign-in's two legs against the Looker emulator, outside a
// browser: storage, history and fetch are injected (tests/browser/
// *_chromium_test.ts run the same code in Chromium).
import assert from "node:assert/strict";
import {
  beginSignIn,
  completeSignIn,
  DEFAULT_PENDING_KEY,
  isSignInCallback,
  WebStorageTokenStore,
} from "../../src/browser/mod.ts";
import { type AuthServer, discover, lookerServer } from "../../src/core/mod.ts";
import {
  type LookerEmulator,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
import { oauthErrorWith } from "../_errors.ts";
import { startOidcProvider } from "../_oidc_provider.ts";
import {
  browseToCallback,
  type RedirectTarget,
  startRedirectTarget,
} from "../_redirect_target.ts";
import { MapStorage, RecordingHistory } from "./_storage.ts";

const CLIENT_ID = "browser-tests";

interface Sent {
  url: string;
  method: string;
  contentType: string | null;
  body: string;
}

interface Setup extends AsyncDisposable {
  looker: LookerEmulator;
  server: AuthServer;
  target: RedirectTarget;
  storage: MapStorage;
  history: RecordingHistory;
  /** Every request sent through `fetch`. */
  sent: Sent[];
  fetch: typeof fetch;
}

async function setUp(json = true): Promise<Setup> {
  const target = startRedirectTarget();
  const looker = await startLookerEmulator({
    apps: [{
      client_guid: CLIENT_ID,
      redirect_uri: target.redirectUri,
      display_name: "Browser tests",
      description: "Signs in from the browser module's tests",
      enabled: true,
    }],
  });
  const sent: Sent[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    sent.push({
      url: request.url,
      method: request.method,
      contentType: request.headers.get("content-type"),
      body: await request.clone().text(),
    });
    return await fetch(request);
  };
  return {
    looker,
    target,
    server: lookerServer({
      lookerUrl: looker.lookerUrl,
      apiUrl: looker.apiUrl,
      ...(json ? { tokenRequestBody: "json" as const } : {}),
    }),
    storage: new MapStorage(),
    history: new RecordingHistory(),
    sent,
    fetch: recording,
    async [Symbol.asyncDispose]() {
      await looker.close();
      await target[Symbol.asyncDispose]();
    },
  };
}

/** Starts a sign-in and plays the person through it: the callback URL. */
async function signInTo(s: Setup): Promise<URL> {
  const url = await beginSignIn(s.server, {
    clientId: CLIENT_ID,
    redirectUri: s.target.redirectUri,
    storage: s.storage,
  });
  return await browseToCallback(s.target, url, "approve");
}

Deno.test("beginSignIn() keeps state, verifier and redirect URI under one key", async () => {
  await using s = await setUp();
  const url = await beginSignIn(s.server, {
    clientId: CLIENT_ID,
    redirectUri: s.target.redirectUri,
    storage: s.storage,
  });
  assert.deepEqual(s.storage.keys(), [DEFAULT_PENDING_KEY]);
  const kept = JSON.parse(s.storage.getItem(DEFAULT_PENDING_KEY)!);
  assert.equal(url.origin + url.pathname, `${s.looker.lookerUrl}/auth`);
  assert.equal(url.searchParams.get("state"), kept.state);
  assert.equal(url.searchParams.get("redirect_uri"), kept.redirectUri);
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.match(kept.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(!url.href.includes(kept.codeVerifier));
  // A second sign-in replaces the first.
  await beginSignIn(s.server, {
    clientId: CLIENT_ID,
    redirectUri: s.target.redirectUri,
    storage: s.storage,
  });
  assert.notEqual(
    JSON.parse(s.storage.getItem(DEFAULT_PENDING_KEY)!).state,
    kept.state,
  );
});

Deno.test("completeSignIn() redeems the code once, as JSON, and cleans the address bar", async () => {
  await using s = await setUp();
  const callback = await signInTo(s);
  // Looker's shape: `?&code=...&state=...`.
  assert.match(callback.search, /^\?&code=/);
  const store = new WebStorageTokenStore({ storage: new MapStorage() });
  const tokens = await completeSignIn(s.server, {
    url: callback,
    storage: s.storage,
    history: s.history,
    store,
    fetch: s.fetch,
  });
  assert.ok(tokens?.accessToken);
  assert.deepEqual(await store.load(), tokens);
  assert.equal(s.storage.getItem(DEFAULT_PENDING_KEY), null);
  assert.deepEqual(s.history.replaced, [s.target.redirectUri]);
  assert.equal(s.sent.length, 1);
  const sent = s.sent[0]!;
  assert.equal(sent.url, `${s.looker.apiUrl}/api/token`);
  assert.equal(sent.contentType, "application/json");
  const body = JSON.parse(sent.body);
  assert.equal(body.grant_type, "authorization_code");
  assert.equal(body.client_id, CLIENT_ID);
  assert.equal(body.redirect_uri, s.target.redirectUri);
  assert.equal(body.code, callback.searchParams.get("code"));

  // The same callback again (a reload, a copied URL): nothing to redeem.
  await assert.rejects(
    completeSignIn(s.server, {
      url: callback,
      storage: s.storage,
      history: null,
      fetch: s.fetch,
    }),
    oauthErrorWith("no_pending_sign_in"),
  );
  assert.equal(s.looker.stats.tokenRequests, 1);
});

Deno.test("completeSignIn() keeps the form body for servers that take one", async () => {
  await using s = await setUp(false);
  const callback = await signInTo(s);
  const tokens = await completeSignIn(s.server, {
    url: callback,
    storage: s.storage,
    history: null,
    fetch: s.fetch,
  });
  assert.ok(tokens?.accessToken);
  assert.match(
    s.sent[0]!.contentType ?? "",
    /^application\/x-www-form-urlencoded/,
  );
});

Deno.test("completeSignIn() refuses a forged state and keeps the sign-in waiting", async () => {
  await using s = await setUp();
  const callback = await signInTo(s);
  const forged = new URL(callback);
  forged.searchParams.set("state", "forged-state-forged-state-forged");
  await assert.rejects(
    completeSignIn(s.server, {
      url: forged,
      storage: s.storage,
      history: s.history,
      fetch: s.fetch,
    }),
    oauthErrorWith("state_mismatch"),
  );
  assert.equal(s.looker.stats.tokenRequests, 0);
  // Its parameters leave the address bar all the same.
  assert.deepEqual(s.history.replaced, [s.target.redirectUri]);
  // The real callback still completes.
  const tokens = await completeSignIn(s.server, {
    url: callback,
    storage: s.storage,
    history: null,
    fetch: s.fetch,
  });
  assert.ok(tokens?.accessToken);
});

Deno.test("completeSignIn() refuses a callback with nothing started", async () => {
  await using s = await setUp();
  const url = `${s.target.redirectUri}?&code=some-code&state=some-state`;
  await assert.rejects(
    completeSignIn(s.server, { url, storage: s.storage, history: null }),
    oauthErrorWith("no_pending_sign_in"),
  );
  // Storage that is not ours counts as nothing started.
  s.storage.setItem(DEFAULT_PENDING_KEY, "{not json");
  await assert.rejects(
    completeSignIn(s.server, { url, storage: s.storage, history: null }),
    oauthErrorWith("no_pending_sign_in"),
  );
  assert.equal(s.looker.stats.tokenRequests, 0);
});

Deno.test("completeSignIn() ends the sign-in on a declined consent", async () => {
  await using s = await setUp();
  const url = await beginSignIn(s.server, {
    clientId: CLIENT_ID,
    redirectUri: s.target.redirectUri,
    storage: s.storage,
  });
  const callback = await browseToCallback(s.target, url, "deny");
  await assert.rejects(
    completeSignIn(s.server, {
      url: callback,
      storage: s.storage,
      history: null,
    }),
    oauthErrorWith("access_denied"),
  );
  assert.equal(s.storage.getItem(DEFAULT_PENDING_KEY), null);
  assert.equal(s.looker.stats.tokenRequests, 0);
});

Deno.test("completeSignIn() does nothing on a page that is not a callback", async () => {
  await using s = await setUp();
  await beginSignIn(s.server, {
    clientId: CLIENT_ID,
    redirectUri: s.target.redirectUri,
    storage: s.storage,
  });
  const before = s.storage.getItem(DEFAULT_PENDING_KEY);
  const result = await completeSignIn(s.server, {
    url: `${s.target.redirectUri}?tab=2#top`,
    storage: s.storage,
    history: s.history,
  });
  assert.equal(result, undefined);
  assert.equal(s.storage.getItem(DEFAULT_PENDING_KEY), before);
  assert.deepEqual(s.history.replaced, []);
});

Deno.test("completeSignIn() keeps the page's other parameters in the address bar", async () => {
  await using s = await setUp();
  const callback = await signInTo(s);
  const url = new URL(callback);
  url.searchParams.set("tab", "2");
  url.hash = "#top";
  await completeSignIn(s.server, {
    url,
    storage: s.storage,
    history: s.history,
  });
  assert.deepEqual(s.history.replaced, [`${s.target.redirectUri}?tab=2#top`]);
});

Deno.test("isSignInCallback() tells callbacks from other pages", () => {
  for (
    const [url, expected] of [
      ["http://localhost:8080/?&code=a&state=b", true],
      ["http://localhost:8080/?state=b", true],
      ["http://localhost:8080/?error=access_denied&state=b", true],
      ["http://localhost:8080/", false],
      ["http://localhost:8080/?tab=code#code=a", false],
    ] as const
  ) {
    assert.equal(isSignInCallback(url), expected, url);
  }
});

Deno.test("completeSignIn() of an openid sign-in at a provider that requires a nonce checks it in the ID token", async () => {
  await using target = startRedirectTarget();
  await using op = await startOidcProvider({
    requireNonce: true,
    redirectUris: [target.redirectUri],
  });
  const server = await discover(op.issuer);
  const storage = new MapStorage();
  const url = await beginSignIn(server, {
    clientId: op.clientId,
    redirectUri: target.redirectUri,
    scope: "openid",
    storage,
  });
  const kept = JSON.parse(storage.getItem(DEFAULT_PENDING_KEY)!);
  assert.ok(kept.nonce);
  assert.equal(url.searchParams.get("nonce"), kept.nonce);
  const callback = await browseToCallback(target, url, "approve");
  const tokens = await completeSignIn(server, {
    url: callback,
    storage,
    history: null,
  });
  const payload = tokens!.idToken!.split(".")[1]!;
  assert.equal(
    JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))).nonce,
    kept.nonce,
  );

  // A sign-in whose kept nonce was changed is refused at the exchange.
  const again = await beginSignIn(server, {
    clientId: op.clientId,
    redirectUri: target.redirectUri,
    scope: "openid",
    storage,
  });
  const next = await browseToCallback(target, again, "approve");
  const pending = JSON.parse(storage.getItem(DEFAULT_PENDING_KEY)!);
  storage.setItem(
    DEFAULT_PENDING_KEY,
    JSON.stringify({ ...pending, nonce: "not-the-one-sent" }),
  );
  await assert.rejects(
    completeSignIn(server, { url: next, storage, history: null }),
    oauthErrorWith("nonce_mismatch"),
  );
});

Deno.test("completeSignIn() explains a redirect URI the server does not know", async () => {
  await using s = await setUp();
  const callback = await signInTo(s);
  // The sign-in was started with another redirect URI than the one Looker
  // sent the code for (a page served under two paths, say).
  const kept = JSON.parse(s.storage.getItem(DEFAULT_PENDING_KEY)!);
  s.storage.setItem(
    DEFAULT_PENDING_KEY,
    JSON.stringify({ ...kept, redirectUri: `${s.target.redirectUri}/` }),
  );
  await assert.rejects(
    completeSignIn(s.server, {
      url: callback,
      storage: s.storage,
      history: null,
    }),
    oauthErrorWith("redirect_uri_mismatch"),
  );
});
