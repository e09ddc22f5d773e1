// LookerSdkSession in a real browser: the looker-sdk entry point bundled for
// the browser (deno bundle --platform browser) loads without Deno, and
// Looker40SDK calls the emulator (CORS) on a TokenSession that refreshes an
// expired token once, through us.
import assert from "node:assert/strict";
import {
  cli,
  expireTokenFile,
  readTokenFile,
  ROOT_DIR,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";
import { launchChromium, SKIP_BROWSER_TESTS } from "../_chromium.ts";
import { freePort } from "../_ports.ts";

async function bundlePage(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      `${ROOT_DIR}/tests/looker_sdk/_page.ts`,
    ],
    cwd: ROOT_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name:
    "Looker40SDK on a LookerSdkSession in Chromium: me() on the emulator, one refresh through the TokenSession",
  ignore: SKIP_BROWSER_TESTS,
  fn: async () => {
    const script = await bundlePage();
    const port = freePort();
    const origin = `http://127.0.0.1:${port}`;
    await using t = await tempHome();
    await using looker = await startLooker({ allowedOrigins: [origin] });
    const login = await cli(["login", ...looker.loginArgs], {
      home: t.home,
      person: scriptedPerson(),
    });
    assert.equal(login.code, 0, login.stderr);
    const { tokens } = await expireTokenFile(t.tokenFile());

    const server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen() {} },
      (request) =>
        new URL(request.url).pathname === "/app.js"
          ? new Response(script, {
            headers: { "content-type": "text/javascript" },
          })
          : new Response(
            '<!doctype html><script type="module" src="/app.js"></script>',
            { headers: { "content-type": "text/html" } },
          ),
    );
    await using chromium = await launchChromium();
    try {
      const page = await chromium.browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(String(err)));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => "runSdk" in globalThis, undefined, {
        timeout: 10_000,
      }).catch(() => {
        throw new Error(`the page did not load: ${errors.join("; ")}`);
      });
      const result = await page.evaluate(
        // deno-lint-ignore no-explicit-any
        (config) => (globalThis as any).runSdk(config),
        {
          lookerUrl: looker.emulator.lookerUrl,
          apiUrl: looker.emulator.apiUrl,
          clientId: looker.clientId,
          redirectUri: looker.redirectUri,
          tokens,
        },
      );
      assert.deepEqual(result, { name: "Ada Lovelace", refreshed: true });
      assert.equal(looker.emulator.stats.refreshes, 1);
      assert.deepEqual(errors, []);
      // The CLI's file was not touched by the page.
      assert.equal(
        (await readTokenFile(t.tokenFile())).tokens.accessToken,
        tokens.accessToken,
      );
    } finally {
      await server.shutdown();
    }
  },
});
