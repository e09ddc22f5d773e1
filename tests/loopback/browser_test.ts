// Opening the browser: the command (from $BROWSER or per OS), the URL as one
// argument with no shell, and URLs refused before anything is started.
import assert from "node:assert/strict";
import {
  assertBrowserSafeUrl,
  browserCommand,
  openBrowser,
} from "../../src/loopback/browser.ts";
import { LoginError } from "../../src/loopback/errors.ts";

const URL_WITH_QUERY =
  "https://example.looker.com/auth?response_type=code&client_id=a%20b&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&state=x~y.z_-&scope=cors_api";

function isUnsafe(err: unknown): boolean {
  assert.ok(err instanceof LoginError, `not a LoginError: ${err}`);
  assert.equal(err.code, "unsafe_url");
  return true;
}

// browserCommand() ------------------------------------------------------------

Deno.test("browserCommand() appends the URL to $BROWSER, split on whitespace", () => {
  assert.deepEqual(
    browserCommand(
      URL_WITH_QUERY,
      "  firefox   --new-window\t-P work ",
      "linux",
    ),
    ["firefox", "--new-window", "-P", "work", URL_WITH_QUERY],
  );
});

Deno.test("browserCommand() puts the URL where $BROWSER says %s", () => {
  assert.deepEqual(
    browserCommand(URL_WITH_QUERY, "chromium --app %s --incognito", "linux"),
    ["chromium", "--app", URL_WITH_QUERY, "--incognito"],
  );
});

Deno.test("browserCommand() keeps the URL one argument even with & and ?", () => {
  const command = browserCommand(URL_WITH_QUERY, "w3m", "linux");
  assert.equal(command.length, 2);
  assert.equal(command.at(-1), URL_WITH_QUERY);
});

Deno.test("browserCommand() uses xdg-open, open or rundll32 per OS without $BROWSER", () => {
  const url = "https://x.example/auth?a=1&b=2";
  assert.deepEqual(browserCommand(url, undefined, "linux"), ["xdg-open", url]);
  assert.deepEqual(browserCommand(url, undefined, "freebsd"), [
    "xdg-open",
    url,
  ]);
  assert.deepEqual(browserCommand(url, undefined, "darwin"), ["open", url]);
  assert.deepEqual(browserCommand(url, undefined, "windows"), [
    "rundll32",
    "url.dll,FileProtocolHandler",
    url,
  ]);
});

Deno.test("browserCommand() treats an empty $BROWSER as unset", () => {
  const url = "https://x.example/";
  assert.deepEqual(browserCommand(url, "", "linux"), ["xdg-open", url]);
  assert.deepEqual(browserCommand(url, "   ", "darwin"), ["open", url]);
});

// assertBrowserSafeUrl() ----------------------------------------------------------

Deno.test("assertBrowserSafeUrl() accepts https: and loopback http: URLs", () => {
  for (
    const url of [
      URL_WITH_QUERY,
      "https://example.looker.com:9999/auth?a=1&b=2#frag",
      "http://localhost:8080/callback?x=1",
      "http://127.0.0.1:8080/",
      "http://127.1.2.3/",
      "http://[::1]:8080/callback",
    ]
  ) {
    assert.equal(assertBrowserSafeUrl(url).href, new URL(url).href, url);
  }
});

Deno.test("assertBrowserSafeUrl() refuses file:, javascript:, data: and other schemes", () => {
  for (
    const url of [
      "file:///etc/passwd",
      "javascript:alert(document.cookie)",
      "JavaScript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
      "vbscript:msgbox(1)",
      "ftp://example.com/",
      "ms-settings:",
      "chrome://settings",
      "about:blank",
    ]
  ) {
    assert.throws(() => assertBrowserSafeUrl(url), isUnsafe, url);
  }
});

Deno.test("assertBrowserSafeUrl() refuses http: off loopback", () => {
  for (
    const url of [
      "http://example.looker.com/auth",
      "http://127.0.0.1.evil.example/",
      "http://localhost.evil.example/",
      "http://0.0.0.0:8080/",
      "http://192.0.2.2/",
    ]
  ) {
    assert.throws(() => assertBrowserSafeUrl(url), isUnsafe, url);
  }
});

Deno.test("assertBrowserSafeUrl() refuses shell metacharacters, quotes, spaces and newlines", () => {
  for (
    const url of [
      "https://x.example/$(touch /tmp/pwned)",
      "https://x.example/?a=$(id)",
      "https://x.example/${IFS}",
      "https://x.example/$HOME",
      "https://x.example/?a=1&b=$PATH",
      "https://x.example/`id`",
      "https://x.example/a;id",
      "https://x.example/a|id",
      'https://x.example/a"b',
      "https://x.example/a'b",
      "https://x.example/a b",
      "https://x.example/a\nb",
      "https://x.example/a\rb",
      "https://x.example/a\tb",
      "https://x.example/\u0000",
      "https://x.example/a<b>",
      "https://x.example/a\\b",
      " https://x.example/",
      "https://x.example/a&b\n; rm -rf ~",
    ]
  ) {
    assert.throws(
      () => assertBrowserSafeUrl(url),
      isUnsafe,
      JSON.stringify(url),
    );
  }
});

Deno.test("assertBrowserSafeUrl() refuses something that is not a URL", () => {
  for (const url of ["", "not a url", "//x.example/", "/auth"]) {
    assert.throws(() => assertBrowserSafeUrl(url), isUnsafe, url);
  }
});

// openBrowser() -----------------------------------------------------------------------

Deno.test("openBrowser() refuses an unsafe URL before starting anything", () => {
  for (
    const url of [
      "javascript:alert(1)",
      "file:///etc/passwd",
      "https://x.example/$(touch pwned)",
      "http://evil.example/",
    ]
  ) {
    const failures: string[] = [];
    assert.throws(
      () =>
        openBrowser(url, {
          // Starting this would fail at once and be reported: it is not.
          browser: "/nonexistent/looker-oauth-browser",
          onFailure: (message) => failures.push(message),
        }),
      isUnsafe,
      url,
    );
    assert.deepEqual(failures, [], `${url}: a program was started`);
  }
});

Deno.test("openBrowser() reports a browser program that cannot be started", () => {
  const failures: string[] = [];
  const started = openBrowser("https://x.example/", {
    browser: "/nonexistent/looker-oauth-browser --flag",
    onFailure: (message) => failures.push(message),
  });
  assert.equal(started, false);
  assert.equal(failures.length, 1);
});

/** A stand-in browser: a Deno script that writes its arguments to a file. */
async function recorder(): Promise<{
  dir: string;
  command: (extra?: string) => string;
  args: () => Promise<string[]>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-browser-" });
  const script = `${dir}/browser.ts`;
  const out = `${dir}/args.json`;
  await Deno.writeTextFile(
    script,
    `const [out, ...rest] = Deno.args;
await Deno.writeTextFile(out + ".tmp", JSON.stringify(rest));
await Deno.rename(out + ".tmp", out);
`,
  );
  return {
    dir,
    command: (extra = "") =>
      `${Deno.execPath()} run --no-config --allow-read=${dir} --allow-write=${dir} ${script} ${out} ${extra}`,
    async args() {
      // The program runs detached: wait for its file, boundedly.
      for (let i = 0; i < 400; i++) {
        try {
          return JSON.parse(await Deno.readTextFile(out));
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error("the stand-in browser never wrote its arguments");
    },
  };
}

Deno.test({
  name:
    "openBrowser() passes the URL as one intact argument, with no shell, even with & and ?",
  // The program is started detached (unref'd) on purpose; it may still be
  // exiting when the test ends.
  fn: async () => {
    const browser = await recorder();
    try {
      const failures: string[] = [];
      const started = openBrowser(URL_WITH_QUERY, {
        browser: browser.command(),
        onFailure: (message) => failures.push(message),
      });
      assert.equal(started, true);
      assert.deepEqual(await browser.args(), [URL_WITH_QUERY]);
      assert.deepEqual(failures, []);
    } finally {
      await Deno.remove(browser.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "openBrowser() puts the URL in place of %s in $BROWSER",
  fn: async () => {
    const browser = await recorder();
    try {
      const url = "http://127.0.0.1:8080/callback?a=1&b=2&c=%26%3F";
      openBrowser(url, { browser: browser.command("--before %s --after") });
      assert.deepEqual(await browser.args(), ["--before", url, "--after"]);
    } finally {
      await Deno.remove(browser.dir, { recursive: true });
    }
  },
});

Deno.test("openBrowser() reports a browser program that exits with an error", async () => {
  const failed = Promise.withResolvers<string>();
  const started = openBrowser("https://x.example/?a=1&b=2", {
    browser: `${Deno.execPath()} eval --no-config Deno.exit(3)`,
    onFailure: failed.resolve,
  });
  assert.equal(started, true);
  // The program is unref'd; a guard timer keeps this test's event loop alive.
  const guard = setTimeout(
    () => failed.reject(new Error("no failure reported")),
    10_000,
  );
  try {
    assert.match(await failed.promise, /\b3\b/);
  } finally {
    clearTimeout(guard);
  }
});
