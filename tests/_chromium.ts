/**
 * Test helper: headless Debian Chromium driven by playwright-core.
 *
 * When Chromium is missing, browser tests fail with an instruction to install
 * it, unless `LOOKER_OAUTH_SKIP_BROWSER_TESTS=1` is set (then they are
 * ignored).
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/lib/chromium/chromium",
];

/** Where Chromium is (`$CHROMIUM_PATH`, Debian's paths, then `$PATH`). */
export function findChromium(): string | undefined {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  const onPath = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)
    .flatMap((dir) => [`${dir}/chromium`, `${dir}/chromium-browser`]);
  for (
    const path of [...(fromEnv ? [fromEnv] : []), ...CANDIDATES, ...onPath]
  ) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Whether the browser tests were asked to be skipped. */
export const SKIP_BROWSER_TESTS =
  Deno.env.get("LOOKER_OAUTH_SKIP_BROWSER_TESTS") === "1";

/**
 * Launches headless Chromium with a fresh profile.
 *
 * @param extraArgs More command-line flags, e.g. `--host-resolver-rules=...`.
 * @returns The browser and a function that closes it and removes the profile.
 * @throws {Error} When Chromium is not installed, saying how to install it.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<
  { browser: Browser } & AsyncDisposable
> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      "Chromium is needed for the browser tests: apt-get install -y chromium " +
        "(or set LOOKER_OAUTH_SKIP_BROWSER_TESTS=1 to skip them)",
    );
  }
  const browser = await chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
    timeout: 10_000,
  });
  return {
    browser,
    [Symbol.asyncDispose]: () => browser.close(),
  };
}
