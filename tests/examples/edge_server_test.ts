// `deno task example:edge`, run as the task runs it (its deno serve flags read
// from deno.json): with no environment it starts its own Looker emulator and
// a person signs in and out in headless Chromium; two processes sharing one
// KV file share sessions and refresh once; a missing secret off localhost
// stops it at start-up.
import assert from "node:assert/strict";
import { DEFAULT_EMULATOR_USER } from "../../src/emulator/looker_emulator.ts";
import { startLookerEmulator } from "../../src/emulator/looker_emulator.ts";
import { launchChromium, SKIP_BROWSER_TESTS } from "../_chromium.ts";
import { ROOT_DIR } from "../_cli.ts";
import { freePort } from "../_ports.ts";
import { Client, redirected, SECRET } from "../server/_app.ts";

/** The task's `deno` arguments, from deno.json. */
async function taskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT_DIR}/deno.json`));
  const words = (config.tasks["example:edge"] as string).split(/\s+/);
  assert.equal(words[0], "deno");
  assert.equal(words[1], "serve");
  return words.slice(1);
}

/** Only what deno itself needs from this environment, and `vars`. */
function environment(vars: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  return { ...keep, ...vars };
}

interface Running extends AsyncDisposable {
  /** What it printed on stderr up to its "Open" line. */
  readonly stderr: string;
  /** The URL it said to open. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
}

async function startExample(
  vars: Record<string, string> = {},
  port: number = freePort(),
): Promise<Running> {
  const child = new Deno.Command(Deno.execPath(), {
    args: await taskArgs(),
    cwd: ROOT_DIR,
    clearEnv: true,
    env: environment({
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      ...vars,
    }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  let url: string | undefined;
  const deadline = AbortSignal.timeout(30_000);
  while (!url && !deadline.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += value;
    url = /^Open (\S+)$/m.exec(stderr)?.[1];
  }
  // Keep draining, so the child never blocks on a full pipe.
  const drained = (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch {
      // cancelled
    }
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    await drained;
  };
  if (!url) {
    await stop();
    assert.fail(`no URL printed:\n${stderr}`);
  }
  return {
    stderr,
    url,
    base: `http://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: stop,
  };
}

Deno.test({
  name:
    "deno task example:edge with no environment: sign in through the emulator's pages in Chromium, see the name, sign out with the POST form",
  ignore: SKIP_BROWSER_TESTS,
  fn: async () => {
    await using chromium = await launchChromium();
    await using app = await startExample();
    assert.match(app.url, /^http:\/\/localhost:\d+\/$/);
    assert.match(app.stderr, /emulator/i);
    assert.match(app.stderr, /COOKIE_SECRET is not set/);
    const page = await chromium.browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(app.url);
    await page.locator("#signed-out").waitFor();
    await page.click("#signin");
    await page.fill("input[name=password]", "any password");
    await page.click("button:has-text('Sign in')");
    await page.click("button:has-text('Allow')");
    await page.locator("#user").waitFor();
    assert.equal(
      await page.locator("#user").textContent(),
      DEFAULT_EMULATOR_USER.display_name,
    );
    assert.equal(new URL(page.url()).pathname, "/");
    // The session cookie is HttpOnly: page scripts cannot read it.
    assert.equal(await page.evaluate("document.cookie"), "");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "looker_oauth_session");
    assert.ok(session?.httpOnly);
    assert.equal(session.sameSite, "Lax");
    await page.click("#signout");
    await page.locator("#signed-out").waitFor();
    assert.equal(
      (await page.context().cookies()).some((c) =>
        c.name === "looker_oauth_session"
      ),
      false,
    );
    // Reloading stays signed out.
    await page.reload();
    await page.locator("#signed-out").waitFor();
  },
});

Deno.test("deno task example:edge answers GET /signout with 405", async () => {
  await using app = await startExample();
  const response = await fetch(`${app.base}/signout`);
  await response.body?.cancel();
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "POST");
});

Deno.test("deno task example:edge stops at start-up without COOKIE_SECRET when the redirect URI is not on localhost", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: await taskArgs(),
    cwd: ROOT_DIR,
    clearEnv: true,
    env: environment({
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${freePort()}`,
      LOOKER_URL: "https://example.looker.com",
      LOOKER_API_URL: "https://example.looker.com:19999",
      REDIRECT_URI: "https://app.example.com/callback",
    }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  assert.equal(status.code, 1, stderr);
  assert.match(stderr, /\[weak_secret\]/);
});

Deno.test("two deno serve processes on one KV file: a sign-in through A works on B, and 10 concurrent requests over both on an expired session refresh once against a rotating Looker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge_kv_" });
  try {
    await using looker = await startLookerEmulator({ autoApprove: true });
    const portA = freePort();
    const redirectUri = `http://127.0.0.1:${portA}/callback`;
    looker.registerApp({
      client_guid: "edge-two",
      redirect_uri: redirectUri,
      display_name: "Edge example, two instances",
      description: "Shares sessions through Deno KV.",
      enabled: true,
    });
    const vars = {
      LOOKER_URL: looker.lookerUrl,
      LOOKER_API_URL: looker.apiUrl,
      LOOKER_CLIENT_ID: "edge-two",
      REDIRECT_URI: redirectUri,
      COOKIE_SECRET: SECRET,
      KV_PATH: `${dir}/sessions.sqlite`,
    };
    await using a = await startExample(vars, portA);
    await using b = await startExample(vars);
    assert.equal(a.base, `http://127.0.0.1:${portA}`);

    const client = new Client();
    const auth = await redirected(await client.fetch(`${a.base}/signin`));
    const callback = await redirected(await client.fetch(auth));
    await redirected(await client.fetch(callback));
    const id = client.cookie(a.base, "looker_oauth_session");
    assert.ok(id);
    const cookie = `looker_oauth_session=${id}`;
    const name = async (base: string): Promise<string | undefined> => {
      const html = await (await fetch(`${base}/`, { headers: { cookie } }))
        .text();
      return /<strong id="user">([^<]*)<\/strong>/.exec(html)?.[1];
    };
    assert.equal(await name(b.base), DEFAULT_EMULATOR_USER.display_name);
    assert.equal(looker.stats.refreshes, 0);

    looker.expireAccessTokens();
    const names = await Promise.all(
      Array.from({ length: 10 }, (_, i) => name(i % 2 ? a.base : b.base)),
    );
    assert.deepEqual(
      names,
      Array(10).fill(DEFAULT_EMULATOR_USER.display_name),
    );
    assert.equal(looker.stats.refreshes, 1);
    assert.equal(looker.stats.refreshReuses, 0);
    // The session survives on both.
    assert.equal(await name(a.base), DEFAULT_EMULATOR_USER.display_name);
    assert.equal(await name(b.base), DEFAULT_EMULATOR_USER.display_name);
    assert.equal(looker.stats.refreshes, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
