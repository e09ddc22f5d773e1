// The page script of browser_chromium_test.ts, bundled for the browser:
// Looker40SDK on a LookerSdkSession over a TokenSession kept in memory.
// The SDK class from its own module: the package index re-exports a type
// the bundler cannot resolve.
import { Looker40SDK } from "@looker/sdk/lib/esm/4.0/methods.js";
import {
  LookerSdkSession,
  lookerServer,
  MemoryTokenStore,
  TokenSession,
  type TokenSet,
} from "../../src/looker_sdk/mod.ts";

interface PageConfig {
  lookerUrl: string;
  apiUrl: string;
  clientId: string;
  redirectUri: string;
  tokens: TokenSet;
}

async function runSdk(
  config: PageConfig,
): Promise<{ name: string | undefined; refreshed: boolean }> {
  const server = lookerServer({
    lookerUrl: config.lookerUrl,
    apiUrl: config.apiUrl,
  });
  const store = new MemoryTokenStore(config.tokens);
  const session = new TokenSession({
    server,
    clientId: config.clientId,
    redirectUri: config.redirectUri,
    store,
  });
  const sdk = new Looker40SDK(
    new LookerSdkSession({ session, apiUrl: config.apiUrl }),
  );
  const me = await sdk.ok(sdk.me());
  const now = await store.load();
  return {
    name: me.display_name ?? undefined,
    refreshed: now?.accessToken !== config.tokens.accessToken,
  };
}

(globalThis as unknown as { runSdk: typeof runSdk }).runSdk = runSdk;
