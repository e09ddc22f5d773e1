// `deno task example:browser`, run as the task runs it (its permissions read
// from deno.json): with no flags it starts the Looker emulator and serves a
// page a person can sign in on; with flags it serves the page for a real
// Looker; bad flags are usage errors.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { DEFAULT_EMULATOR_USER } from "../../src/emulator/looker_emulator.ts";
import { launchChromium, SKIP_BROWSER_TESTS } from "../_chromium.ts";
import { ROOT_DIR } from "../_cli.ts";
import { freePort } from "../_ports.ts";

/** The task's `deno` arguments, from deno.json. */
async function taskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT_DIR}/deno.json`));
  const words = (config.tasks["example:browser"] as string).split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1);
}

interface Running extends AsyncDisposable {
  /** What it printed up to the "Open" line. */
  stdout: string;
  /** The URL it said to open. */
  url: string;
}

async function startTask(flags: string[]): Promise<Running> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...await taskArgs(), ...flags],
    cwd: ROOT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = AbortSignal.timeout(30_000);
  let url: string | undefined;
  while (!url && !deadline.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += value;
    url = /^Open (\S+)$/m.exec(stdout)?.[1];
  }
  const stop = async () => {
    try {
      child.kill("SIGINT");
    } catch {
      // already gone
    }
    await reader.cancel().catch(() => {});
    await child.status;
    await stderr;
  };
  if (!url) {
    await stop();
    assert.fail(`no URL printed:\n${stdout}\n${await stderr}`);
  }
  return { stdout, url, [Symbol.asyncDispose]: stop };
}

Deno.test({
  name:
    "deno task example:browser with no flags serves a page that signs in to its own emulator",
  ignore: SKIP_BROWSER_TESTS,
  fn: async () => {
    await using chromium = await launchChromium();
    await using task = await startTask([]);
    assert.match(task.url, /^http:\/\/localhost:\d+\/$/);
    assert.match(task.stdout, /emulator/i);
    const page: Page = await chromium.browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(task.url);
    await page.click("#sign-in");
    await page.fill("input[name=password]", "any password");
    await page.click("button:has-text('Sign in')");
    await page.click("button:has-text('Allow')");
    await page.locator('body[data-state="signed-in"]').waitFor({
      state: "attached",
    });
    assert.equal(
      await page.locator("#user").textContent(),
      DEFAULT_EMULATOR_USER.display_name,
    );
  },
});

Deno.test("deno task example:browser with flags serves the page for that Looker", async () => {
  const port = freePort();
  await using task = await startTask([
    "--looker-url",
    "https://example.looker.com",
    "--api-url",
    "https://example.looker.com:19999",
    "--client-id",
    "my-app",
    "--port",
    String(port),
  ]);
  assert.equal(task.url, `http://localhost:${port}/`);
  const response = await fetch(`http://127.0.0.1:${port}/`);
  const html = await response.text();
  const config = JSON.parse(
    /<script id="config" type="application\/json">([\s\S]*?)<\/script>/
      .exec(html)![1]!,
  );
  assert.deepEqual(config, {
    lookerUrl: "https://example.looker.com",
    apiUrl: "https://example.looker.com:19999",
    clientId: "my-app",
  });
  assert.match(
    response.headers.get("content-security-policy")!,
    /connect-src https:\/\/example\.looker\.com:19999(;|$)/,
  );
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  const script = await fetch(`http://127.0.0.1:${port}/app.js`);
  assert.match(script.headers.get("content-type")!, /javascript/);
  assert.match(await script.text(), /looker-oauth:pending/);
});

Deno.test("deno task example:browser refuses incomplete flags with exit 2", async () => {
  for (
    const flags of [
      ["--looker-url", "https://example.looker.com"],
      ["--client-id", "my-app"],
      ["--port", "70000"],
      ["--port"],
      ["--bogus"],
    ]
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...await taskArgs(), ...flags],
      cwd: ROOT_DIR,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2, flags.join(" "));
    assert.match(new TextDecoder().decode(out.stderr), /Usage:/);
  }
});
