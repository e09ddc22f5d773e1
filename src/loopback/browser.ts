/**
 * Opening the authorization URL in the person's browser, without a shell.
 *
 * @module
 */
import { isPlainHttpAllowed } from "../core/transport.ts";
import { LoginError } from "./errors.ts";

/** Characters no authorization URL needs and shells treat specially. */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\s\u0000-\u001f\u007f`$;|<>\\"'(){}^!]/u;

/**
 * Checks that a URL is safe to hand to a browser: `https:`, or `http:` on a
 * loopback host; no whitespace, control characters or shell metacharacters
 * (a `javascript:`, `file:` or `$(...)` URL from hostile metadata never
 * reaches a program).
 *
 * @param url The URL.
 * @returns The parsed URL.
 * @throws {LoginError} `unsafe_url`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertBrowserSafeUrl } from "./browser.ts";
 * import { LoginError } from "./errors.ts";
 *
 * assertBrowserSafeUrl("https://example.looker.com/auth?client_id=x");
 * assert.throws(
 *   () => assertBrowserSafeUrl("https://x.example/$(touch /tmp/pwned)"),
 *   (err) => err instanceof LoginError && err.code === "unsafe_url",
 * );
 * ```
 */
export function assertBrowserSafeUrl(url: string | URL): URL {
  const text = String(url);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new LoginError(
      "unsafe_url",
      "refusing to open something that is not a URL",
    );
  }
  const loopbackHttp = isPlainHttpAllowed(parsed, false);
  if (parsed.protocol !== "https:" && !loopbackHttp) {
    throw new LoginError(
      "unsafe_url",
      `refusing to open a ${parsed.protocol} URL in the browser; only https: (or http: on this machine) is opened`,
    );
  }
  if (UNSAFE.test(text) || UNSAFE.test(parsed.href)) {
    throw new LoginError(
      "unsafe_url",
      "refusing to open a URL containing spaces, quotes or shell metacharacters",
    );
  }
  return parsed;
}

/**
 * The command that opens a URL: `$BROWSER` if set (split on spaces, `%s`
 * replaced by the URL, else the URL appended as the last argument), else
 * `xdg-open`, `open`, or `rundll32 url.dll,FileProtocolHandler`.
 *
 * @param url The URL, already checked.
 * @param browser The value of `$BROWSER`, if any.
 * @param os The operating system.
 * @returns The program and its arguments; no shell is involved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { browserCommand } from "./browser.ts";
 *
 * assert.deepEqual(
 *   browserCommand("https://x.example/", undefined, "linux"),
 *   ["xdg-open", "https://x.example/"],
 * );
 * ```
 */
export function browserCommand(
  url: string,
  browser: string | undefined,
  os: string,
): string[] {
  const configured = browser?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (configured.length > 0) {
    return configured.includes("%s")
      ? configured.map((part) => (part === "%s" ? url : part))
      : [...configured, url];
  }
  switch (os) {
    case "darwin":
      return ["open", url];
    case "windows":
      return ["rundll32", "url.dll,FileProtocolHandler", url];
    default:
      return ["xdg-open", url];
  }
}

/** Options for {@linkcode openBrowser}. */
export interface OpenBrowserOptions {
  /** The `$BROWSER` value; `Deno.env.get("BROWSER")` by default. */
  browser?: string | undefined;
  /** The operating system; `Deno.build.os` by default. */
  os?: string;
  /** Called if the browser program fails or exits with an error. */
  onFailure?: (message: string) => void;
}

/**
 * Opens `url` in the browser. Returns once the program is started; it is not
 * awaited, and a failure is reported through `onFailure`.
 *
 * @param url The URL to open.
 * @param options The browser command and a failure callback.
 * @returns `true` when a program was started.
 * @throws {LoginError} `unsafe_url`, before anything is started.
 *
 * @example
 * ```ts ignore
 * import { openBrowser } from "@looker-oauth/pkce";
 *
 * const url = "https://example.looker.com/auth?client_id=cli";
 * if (!openBrowser(url, { onFailure: (m) => console.error(m) })) {
 *   console.error(`Open this address in a browser: ${url}`);
 * }
 * ```
 */
export function openBrowser(
  url: string | URL,
  options: OpenBrowserOptions = {},
): boolean {
  const safe = assertBrowserSafeUrl(url);
  const browser = "browser" in options
    ? options.browser
    : Deno.env.get("BROWSER");
  const [program, ...args] = browserCommand(
    safe.href,
    browser,
    options.os ?? Deno.build.os,
  );
  const report = options.onFailure ?? (() => {});
  try {
    const child = new Deno.Command(program!, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.status.then((status) => {
      if (!status.success) {
        report(
          `the browser command ${program} exited with code ${status.code}`,
        );
      }
    }, () => {});
    child.unref();
    return true;
  } catch (err) {
    report(
      `could not start ${program}: ${err instanceof Error ? err.message : err}`,
    );
    return false;
  }
}
