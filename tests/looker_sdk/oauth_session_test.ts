// The official SDK's own OAuth flow against the emulator: @looker/sdk-rtl's
// OAuthSession and BrowserTransport sign in (its padded base64url challenge,
// JSON token requests), call the API, refresh and sign out (DELETE
// /api/logout), as they would against Looker.
//
// OAuthSession is written for a browser page: it reads `window.location`
// and `window.crypto`. The stand-in `window` below exists only in this test.
import assert from "node:assert/strict";
import { Looker40SDK } from "@looker/sdk";
import {
  ApiSettings,
  BrowserCryptoHash,
  BrowserTransport,
  type IApiSection,
  OAuthSession,
} from "@looker/sdk-rtl";
import { startLookerEmulator } from "../../src/emulator/looker_emulator.ts";
import { browseToCallback, startRedirectTarget } from "../_redirect_target.ts";

const CLIENT_ID = "looker-sdk-oauth";

/** The SDK's settings with the OAuth values a browser app configures. */
class OAuthSettings extends ApiSettings {
  readonly #oauth: IApiSection;

  constructor(apiUrl: string, oauth: IApiSection) {
    super({ base_url: apiUrl, timeout: 30, verify_ssl: true });
    this.#oauth = oauth;
  }

  override readConfig(): IApiSection {
    return { ...this.#oauth, base_url: this.base_url };
  }
}

/** A page's `location`, as much of it as OAuthSession uses. */
interface PageLocation {
  href: string;
  pathname: string;
  search: string;
}

Deno.test("the SDK's own OAuthSession + BrowserTransport sign in, refresh and log out against the emulator", async () => {
  await using target = startRedirectTarget();
  await using looker = await startLookerEmulator({
    apps: [{
      client_guid: CLIENT_ID,
      redirect_uri: target.redirectUri,
      display_name: "Looker SDK",
      description: "The official SDK's OAuth flow",
      enabled: true,
    }],
  });
  const location: PageLocation = {
    href: "http://127.0.0.1/app",
    pathname: "/app",
    search: "",
  };
  const scope = globalThis as { window?: unknown };
  const previous = scope.window;
  scope.window = { crypto: globalThis.crypto, location };
  sessionStorage.clear();
  try {
    const settings = new OAuthSettings(looker.apiUrl, {
      client_id: CLIENT_ID,
      redirect_uri: target.redirectUri,
      looker_url: looker.lookerUrl,
    });
    const session = new OAuthSession({
      settings,
      transport: new BrowserTransport(settings),
      crypto: new BrowserCryptoHash(),
    });
    const sdk = new Looker40SDK(session);

    // First page load: the SDK sends the person to Looker's /auth.
    await session.login();
    const authUrl = new URL(location.href);
    assert.equal(authUrl.origin, looker.lookerUrl);
    const challenge = authUrl.searchParams.get("code_challenge")!;
    assert.match(
      challenge,
      /^[A-Za-z0-9_-]{43}=$/,
      "the SDK pads its challenge",
    );

    // The person signs in; the browser comes back with ?&code=...&state=...
    const callback = await browseToCallback(target, authUrl, "approve");
    location.href = callback.href;
    location.pathname = callback.pathname;
    location.search = callback.search;

    // Second page load: the SDK redeems the code with its verifier.
    await session.login();
    assert.equal(session.isAuthenticated(), true);
    assert.equal(looker.stats.codeExchanges, 1);
    const me = await sdk.ok(sdk.me());
    assert.equal(me.display_name, "Ada Lovelace");

    // Expired: the SDK refreshes with its refresh token.
    session.activeToken.expiresAt = new Date(Date.now() - 60_000);
    assert.equal(session.isAuthenticated(), false);
    const again = await sdk.ok(sdk.me());
    assert.equal(again.id, "1");
    assert.equal(looker.stats.refreshes, 1);
    assert.equal(session.isAuthenticated(), true);

    // Logout at /api/logout ends the grant.
    const refreshToken = session.activeToken.refresh_token!;
    assert.equal(await session.logout(), true);
    assert.equal(looker.stats.logouts, 1);
    const reuse = await fetch(`${looker.apiUrl}/api/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: CLIENT_ID,
        redirect_uri: target.redirectUri,
      }),
    });
    assert.equal(reuse.status, 400);
    assert.equal((await reuse.json()).error, "invalid_grant");
  } finally {
    scope.window = previous;
    sessionStorage.clear();
  }
});
