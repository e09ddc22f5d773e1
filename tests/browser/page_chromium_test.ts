// The browser example (examples/browser/) in headless Chromium against the
// Looker emulator with CORS: what a person sees, what the page keeps, and
// what reaches Looker. Chromium plays the person on the emulator's sign-in
// and consent pages.
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  DEFAULT_EMULATOR_USER,
  type LookerEmulator,
  type LookerEmulatorOptions,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
import {
  bundleApp,
  type ExampleServer,
  serveExample,
} from "../../examples/browser/serve.ts";
import { launchChromium, SKIP_BROWSER_TESTS } from "../_chromium.ts";
import { freePort } from "../_ports.ts";

const CLIENT_ID = "browser-example-tests";
const TOKENS_KEY = "looker-oauth:tokens";
// Without Chromium the tests run and fail with the install instruction;
// LOOKER_OAUTH_SKIP_BROWSER_TESTS=1 skips them.
const ignore = SKIP_BROWSER_TESTS;

let script: Promise<string> | undefined;

interface Setup extends AsyncDisposable {
  browser: Browser;
  context: BrowserContext;
  looker: LookerEmulator;
  example: ExampleServer;
  /** The page's URL: `http://HOST:PORT/`. */
  url: string;
  /** A new tab, with its console errors and requests watched. */
  open(): Promise<Tab>;
}

interface Tab {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every URL the tab requested from the page's own origin. */
  requested: URL[];
}

interface SetupOptions {
  emulator?: LookerEmulatorOptions;
  /** Put the page's origin on the allowlist. Default `true`. */
  allowlisted?: boolean;
  storage?: "session" | "local";
  /** The page's host name. Default `localhost`. */
  host?: string;
  /** More Chromium flags. */
  chromiumArgs?: string[];
}

async function setUp(options: SetupOptions = {}): Promise<Setup> {
  const chromium = await launchChromium(options.chromiumArgs);
  const cleanup: (() => PromiseLike<unknown>)[] = [
    () => chromium[Symbol.asyncDispose](),
  ];
  const close = async () => {
    for (const step of cleanup.reverse()) {
      await Promise.resolve(step()).catch(() => {});
    }
  };
  try {
    const port = freePort();
    const origin = `http://${options.host ?? "localhost"}:${port}`;
    const looker = await startLookerEmulator({
      apps: [{
        client_guid: CLIENT_ID,
        redirect_uri: `${origin}/`,
        display_name: "Browser example tests",
        description: "Shows your name, read from the Looker API.",
        enabled: true,
      }],
      allowedOrigins: options.allowlisted === false ? [] : [origin],
      ...options.emulator,
    });
    cleanup.push(() => looker.close());
    script ??= bundleApp();
    const example = await serveExample({
      lookerUrl: looker.lookerUrl,
      apiUrl: looker.apiUrl,
      clientId: CLIENT_ID,
      ...(options.storage ? { storage: options.storage } : {}),
    }, { port, script: await script });
    cleanup.push(() => example.close());
    const context = await chromium.browser.newContext();
    return {
      browser: chromium.browser,
      context,
      looker,
      example,
      url: `${origin}/`,
      async open() {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        const errors: string[] = [];
        const requested: URL[] = [];
        page.on("console", (message) => {
          if (message.type() === "error") errors.push(message.text());
        });
        page.on("pageerror", (error) => errors.push(String(error)));
        page.on("request", (request) => {
          const url = new URL(request.url());
          if (url.origin === origin) requested.push(url);
        });
        return { page, errors, requested };
      },
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits for the page to settle in `state` (signed-in, signed-out, error). */
async function settled(page: Page, state: string): Promise<void> {
  await page.locator(`body[data-state="${state}"]`).waitFor({
    state: "attached",
  });
}

/** Clicks "Sign in", then through the emulator's sign-in and consent pages. */
async function signIn(page: Page): Promise<void> {
  await page.click("#sign-in");
  await page.fill("input[name=password]", "correct horse battery staple");
  await page.click("button:has-text('Sign in')");
  await page.click("button:has-text('Allow')");
  await settled(page, "signed-in");
}

async function errorCode(page: Page): Promise<string | null> {
  await settled(page, "error");
  return await page.locator("#error").getAttribute("data-code");
}

function storageOf(page: Page, which: "session" | "local") {
  return page.evaluate(
    (which) => ({ ...(which === "local" ? localStorage : sessionStorage) }),
    which,
  ) as Promise<Record<string, string>>;
}

/** Waits until the stored access token is within the refresh margin (60 s). */
async function untilStale(page: Page, which: "session" | "local") {
  await page.waitForFunction(
    ([which, key]) => {
      const storage = which === "local" ? localStorage : sessionStorage;
      const tokens = JSON.parse(storage.getItem(key!) ?? "null");
      return tokens !== null && tokens.expiresAt - Date.now() < 60_000;
    },
    [which, TOKENS_KEY],
    { timeout: 10_000 },
  );
}

Deno.test({
  name:
    "the example page signs in through Looker's pages, shows the name and keeps no verifier",
  ignore,
  fn: async () => {
    await using s = await setUp();
    const { page, errors, requested } = await s.open();
    await page.goto(s.url);
    await settled(page, "signed-out");
    await signIn(page);
    assert.equal(
      await page.locator("#user").textContent(),
      DEFAULT_EMULATOR_USER.display_name,
    );
    // The browser came back to the page itself with a code...
    const callback = requested.find((url) => url.searchParams.has("code"));
    assert.ok(callback, "the page never received the callback");
    assert.equal(callback.pathname, "/");
    // ...and the address bar holds neither the code nor the state.
    const shown = new URL(page.url());
    assert.equal(shown.href, s.url);
    assert.doesNotMatch(page.url(), /code=|state=/);
    const session = await storageOf(page, "session");
    assert.deepEqual(Object.keys(session), [TOKENS_KEY]);
    assert.doesNotMatch(JSON.stringify(session), /codeVerifier|code_verifier/);
    assert.equal(s.looker.stats.codeExchanges, 1);
    assert.deepEqual(errors, []);

    // A reload: still signed in, nothing redeemed or refreshed again.
    await page.reload();
    await settled(page, "signed-in");
    assert.equal(
      await page.locator("#user").textContent(),
      DEFAULT_EMULATOR_USER.display_name,
    );
    assert.equal(s.looker.stats.tokenRequests, 1);
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  name: "the example page refreshes an expired access token once",
  ignore,
  fn: async () => {
    // 63 s: fresh for about 3 s under the 60 s refresh margin.
    await using s = await setUp({ emulator: { accessTokenTtl: 63 } });
    const { page, errors } = await s.open();
    await page.goto(s.url);
    await signIn(page);
    const before = (await storageOf(page, "session"))[TOKENS_KEY]!;
    assert.equal(s.looker.stats.refreshes, 0);
    await untilStale(page, "session");
    await page.reload();
    await settled(page, "signed-in");
    assert.equal(
      await page.locator("#user").textContent(),
      DEFAULT_EMULATOR_USER.display_name,
    );
    assert.equal(s.looker.stats.refreshes, 1);
    const after = (await storageOf(page, "session"))[TOKENS_KEY]!;
    assert.notEqual(
      JSON.parse(after).accessToken,
      JSON.parse(before).accessToken,
    );
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  name:
    "two tabs on localStorage refresh a rotating token once between them and both stay signed in",
  ignore,
  fn: async () => {
    await using s = await setUp({
      storage: "local",
      emulator: { accessTokenTtl: 63, rotateRefreshTokens: true },
    });
    const a = await s.open();
    await a.page.goto(s.url);
    await signIn(a.page);
    const b = await s.open();
    await b.page.goto(s.url);
    await settled(b.page, "signed-in");
    assert.equal(s.looker.stats.codeExchanges, 1);
    for (let round = 1; round <= 2; round++) {
      await untilStale(a.page, "local");
      // Both tabs call the API on the expired token at the same time.
      await Promise.all([a.page.reload(), b.page.reload()]);
      await Promise.all([
        settled(a.page, "signed-in"),
        settled(b.page, "signed-in"),
      ]);
      for (const tab of [a, b]) {
        assert.equal(
          await tab.page.locator("#user").textContent(),
          DEFAULT_EMULATOR_USER.display_name,
        );
      }
      assert.equal(s.looker.stats.refreshes, round, `round ${round}`);
      assert.equal(s.looker.stats.refreshReuses, 0);
    }
    assert.deepEqual([...a.errors, ...b.errors], []);
  },
});

Deno.test({
  name:
    "the example page served from an origin off the allowlist shows cors_refused",
  ignore,
  fn: async () => {
    await using s = await setUp({ allowlisted: false });
    const { page } = await s.open();
    await page.goto(s.url);
    await page.click("#sign-in");
    await page.fill("input[name=password]", "correct horse battery staple");
    await page.click("button:has-text('Sign in')");
    await page.click("button:has-text('Allow')");
    assert.equal(await errorCode(page), "cors_refused");
    assert.match(
      await page.locator("#error").textContent() ?? "",
      new RegExp(new URL(s.url).origin.replaceAll(".", "\\.")),
    );
    // The browser stopped at the preflight: no token request got through.
    assert.equal(s.looker.stats.authorizations, 1);
    assert.ok(s.looker.stats.refusedPreflights >= 1);
    assert.equal(s.looker.stats.tokenRequests, 0);
    assert.doesNotMatch(page.url(), /code=|state=/);
  },
});

Deno.test({
  name: "the example page on plain http off localhost shows insecure_context",
  ignore,
  fn: async () => {
    const host = "looker-oauth.test";
    await using s = await setUp({
      host,
      chromiumArgs: [`--host-resolver-rules=MAP ${host} 127.0.0.1`],
    });
    const { page } = await s.open();
    await page.goto(s.url);
    assert.equal(new URL(page.url()).hostname, host);
    assert.equal(await page.evaluate("isSecureContext"), false);
    await settled(page, "signed-out");
    await page.click("#sign-in");
    assert.equal(await errorCode(page), "insecure_context");
    assert.equal(new URL(page.url()).hostname, host, "the page navigated");
    assert.equal(s.looker.stats.authorizations, 0);
  },
});

Deno.test({
  name:
    "the example page refuses a forged state, a replayed callback and a callback with nothing started",
  ignore,
  fn: async () => {
    await using s = await setUp();
    const { page, requested } = await s.open();

    // Nothing started in this tab.
    await page.goto(`${s.url}?&code=made-up-code&state=made-up-state`);
    assert.equal(await errorCode(page), "no_pending_sign_in");
    assert.doesNotMatch(page.url(), /code=|state=/);

    // A sign-in started, then a callback with someone else's state.
    await page.click("#sign-in");
    await page.locator("input[name=password]").waitFor();
    await page.goto(`${s.url}?&code=made-up-code&state=forged-state`);
    assert.equal(await errorCode(page), "state_mismatch");
    assert.doesNotMatch(page.url(), /code=|state=/);
    assert.equal(s.looker.stats.tokenRequests, 0);

    // A real sign-in, then its callback URL loaded again.
    await page.click("#sign-in");
    await page.fill("input[name=password]", "correct horse battery staple");
    await page.click("button:has-text('Sign in')");
    await page.click("button:has-text('Allow')");
    await settled(page, "signed-in");
    assert.equal(s.looker.stats.tokenRequests, 1);
    const callback = requested.findLast((url) =>
      url.searchParams.has("code") && url.searchParams.get("code") !==
        "made-up-code"
    );
    assert.ok(callback);
    await page.goto(callback.href);
    assert.equal(await errorCode(page), "no_pending_sign_in");
    assert.equal(s.looker.stats.tokenRequests, 1);
  },
});

Deno.test({
  name:
    "signing out on the example page logs out of Looker and forgets the tokens",
  ignore,
  fn: async () => {
    await using s = await setUp();
    const { page, errors } = await s.open();
    await page.goto(s.url);
    await signIn(page);
    assert.deepEqual(Object.keys(await storageOf(page, "session")), [
      TOKENS_KEY,
    ]);
    await page.click("#sign-out");
    await settled(page, "signed-out");
    assert.equal(s.looker.stats.logouts, 1);
    assert.deepEqual(await storageOf(page, "session"), {});
    assert.equal(await page.locator("#user").textContent(), "");
    await page.reload();
    await settled(page, "signed-out");
    assert.deepEqual(errors, []);
  },
});
