// What a person sees: a real sign-in in headless Chromium, through the Looker
// emulator's sign-in and consent pages, ending on the loopback receiver's page.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { lookerServer, OAuthError } from "../../src/core/mod.ts";
import {
  type LookerEmulator,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
import {
  type BrowserLoginResult,
  loginWithBrowser,
} from "../../src/loopback/login.ts";
import { launchChromium, SKIP_BROWSER_TESTS } from "../_chromium.ts";
import { freePort } from "../_ports.ts";

const CLIENT_ID = "chromium-tests";
// Without Chromium the tests run and fail with the install instruction;
// LOOKER_OAUTH_SKIP_BROWSER_TESTS=1 skips them.
const ignore = SKIP_BROWSER_TESTS;

/** Everything the page complained about, and every callback it requested. */
function watch(page: Page, origin: string) {
  const errors: string[] = [];
  const callbacks: URL[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin === origin) callbacks.push(url);
  });
  return { errors, callbacks };
}

/**
 * Runs a sign-in in Chromium: opens the authorization URL, signs in on the
 * emulator and clicks `button` on its consent page.
 */
async function signIn(button: "Allow" | "Deny") {
  // First the browser: without Chromium, fail before starting anything.
  const chromium = await launchChromium();
  const port = freePort();
  const redirectUri = `http://localhost:${port}/callback`;
  let looker: LookerEmulator | undefined;
  let login: Promise<BrowserLoginResult> | undefined;
  const close = async () => {
    await chromium[Symbol.asyncDispose]();
    await login?.catch(() => {});
    await looker?.close();
  };
  try {
    looker = await startLookerEmulator({
      apps: [{
        client_guid: CLIENT_ID,
        redirect_uri: redirectUri,
        display_name: "Chromium tests",
        description: "Signs in from headless Chromium",
        enabled: true,
      }],
    });
    const page = await chromium.browser.newPage();
    page.setDefaultTimeout(5_000);
    const seen = watch(page, new URL(redirectUri).origin);
    const opened = Promise.withResolvers<URL>();
    login = loginWithBrowser({
      server: lookerServer({
        lookerUrl: looker.lookerUrl,
        apiUrl: looker.apiUrl,
      }),
      clientId: CLIENT_ID,
      redirectUri,
      callbackTimeout: 10_000,
      open: (url) => opened.resolve(url),
    });
    login.catch(() => {}); // observed by the caller
    await page.goto((await opened.promise).href);
    await page.fill("input[name=password]", "correct horse battery staple");
    await page.click("button:has-text('Sign in')");
    await page.locator(`button:has-text('${button}')`).waitFor();
    await page.click(`button:has-text('${button}')`);
    await page.locator("h1#title").waitFor();
    return { page, seen, login, looker, port, close };
  } catch (err) {
    await close();
    throw err;
  }
}

Deno.test({
  name:
    "the success page in Chromium says Signed in and shows no code or state",
  ignore,
  fn: async () => {
    const run = await signIn("Allow");
    try {
      const { page, seen } = run;
      const { tokens } = await run.login;
      assert.equal(await page.locator("h1").textContent(), "Signed in");
      assert.equal(await page.title(), "Signed in · looker-oauth");

      // The browser did come back with a code and a state...
      const callback = seen.callbacks.find((u) => u.searchParams.has("code"));
      assert.ok(callback, "the browser never requested the callback");
      const code = callback.searchParams.get("code")!;
      const state = callback.searchParams.get("state")!;
      assert.ok(code.length >= 8 && state.length >= 8);

      // ...and nothing of them is left on screen or in the address bar.
      const text = await page.locator("body").innerText();
      const html = await page.content();
      for (const secret of [code, state, tokens.accessToken]) {
        assert.ok(!text.includes(secret), "the page shows a secret");
        assert.ok(!html.includes(secret), "the page's HTML holds a secret");
        assert.ok(!page.url().includes(secret), "the address bar holds one");
      }
      assert.doesNotMatch(page.url(), /code=|state=/);
      assert.equal(new URL(page.url()).pathname, "/callback");
      assert.equal(new URL(page.url()).search, "");
      assert.match(text, /close this tab/i);

      // The page's own script ran (it stripped the query), and the CSP
      // blocked nothing: no console errors on any page.
      assert.deepEqual(seen.errors, []);
      assert.equal(run.looker.stats.codeExchanges, 1);
    } finally {
      await run.close();
    }
  },
});

Deno.test({
  name: "the declined page in Chromium says the sign-in was declined",
  ignore,
  fn: async () => {
    const run = await signIn("Deny");
    try {
      const { page, seen } = run;
      await assert.rejects(run.login, (err: unknown) => {
        assert.ok(err instanceof OAuthError);
        assert.equal(err.code, "access_denied");
        return true;
      });
      assert.equal(await page.locator("h1").textContent(), "Sign-in declined");
      assert.match(await page.locator("body").innerText(), /declined/i);
      const callback = seen.callbacks.find((u) => u.searchParams.has("state"));
      assert.ok(callback, "the browser never requested the callback");
      assert.equal(callback.searchParams.get("error"), "access_denied");
      assert.equal(new URL(page.url()).search, "", "the query was not removed");
      assert.ok(
        !(await page.content()).includes(
          callback.searchParams.get("state")!,
        ),
      );
      // Chromium logs the page's own 403 status as a console error; nothing
      // else (no CSP report, no script error) may appear.
      assert.deepEqual(
        seen.errors.filter((e) =>
          !/^Failed to load resource: .*status of 403\b/.test(e)
        ),
        [],
      );
      assert.equal(run.looker.stats.codeExchanges, 0);
    } finally {
      await run.close();
    }
  },
});
