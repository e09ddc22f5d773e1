/**
 * The whole browser sign-in on this machine: listen, open the browser, wait
 * for the redirect (or a pasted URL), exchange the code.
 *
 * @module
 */
import { startAuthorization } from "../core/authorization.ts";
import { parseCallback } from "../core/callback.ts";
import { OAuthError } from "../core/errors.ts";
import type { HttpOptions } from "../core/http_options.ts";
import type { AuthServer } from "../core/server.ts";
import { exchangeCode, type TokenSet } from "../core/token.ts";
import { httpOptionsOf } from "../core/transport.ts";
import { assertBrowserSafeUrl, openBrowser } from "./browser.ts";
import { LoginError } from "./errors.ts";
import { type LoopbackReceiver, startLoopbackReceiver } from "./receiver.ts";

/** Options for {@linkcode loginWithBrowser}. */
export interface BrowserLoginOptions extends HttpOptions {
  /** Where to sign in. */
  server: AuthServer;
  /** The client id. */
  clientId: string;
  /** The registered loopback redirect URI, e.g. `http://localhost:8080/callback`. */
  redirectUri: string;
  /** The scope; Looker's default is `cors_api`. */
  scope?: string;
  /** More authorization parameters (e.g. `prompt`). */
  extraParams?: Readonly<Record<string, string>>;
  /**
   * With no port in the redirect URI, pick a free one (RFC 8252 §7.3).
   * Default: `true` for non-Looker servers; Looker needs the exact URI.
   */
  anyPort?: boolean;
  /** Milliseconds to wait for the callback. Default 300 000 (5 minutes). */
  callbackTimeout?: number;
  /**
   * Milliseconds without a callback after which
   * {@linkcode BrowserLoginOptions.onStillWaiting} is called. Default
   * 20 000.
   */
  hintAfter?: number;
  /**
   * Called once, `hintAfter` ms into the wait, when a free port was picked
   * for the redirect URI: the most likely reason for the silence is a server
   * that matches redirect URIs exactly, port included (RFC 8252 §7.3 says it
   * must not, many do), and shows the person an error page instead of
   * redirecting. The timeout's {@linkcode LoginError} repeats the hint.
   */
  onStillWaiting?: (hint: WaitingHint) => void;
  /**
   * Opens the URL; by default {@linkcode openBrowser}. Pass `false` to open
   * nothing (the person opens the URL, e.g. on another machine).
   */
  open?: false | ((url: URL) => void | Promise<void>);
  /** Called with the authorization URL once the receiver listens. */
  onUrl?: (url: URL) => void;
  /** Lines the person pastes (the redirected URL), e.g. from stdin. */
  pasted?: AsyncIterable<string>;
  /** Called when a pasted line is not this sign-in's callback. */
  onPasteRejected?: (error: OAuthError) => void;
  /** Called when the browser program fails. */
  onBrowserFailure?: (message: string) => void;
}

/** What {@linkcode BrowserLoginOptions.onStillWaiting} is told. */
export interface WaitingHint {
  /** The redirect URI sent, with the port that was picked for it. */
  readonly redirectUri: string;
  /** What most likely happened and what to do, in one sentence. */
  readonly hint: string;
}

/** A finished browser sign-in. */
export interface BrowserLoginResult {
  /** The tokens. */
  readonly tokens: TokenSet;
  /** The redirect URI used (refreshes at Looker repeat it). */
  readonly redirectUri: string;
}

/**
 * Signs in through the browser: starts the loopback receiver, then builds the
 * authorization URL and opens it, then waits for the first of the redirect, a
 * pasted URL, the timeout, or the abort signal. The receiver is always closed
 * (its port freed) before this returns or throws; tokens are only returned,
 * never written here.
 *
 * @param options Server, client, redirect URI and how to reach the person.
 * @returns The tokens and the redirect URI used.
 * @throws {LoginError} `port_in_use`, `not_loopback`, `timeout`,
 *   `cancelled`, `unsafe_url`.
 * @throws {OAuthError} `invalid_argument` for a `callbackTimeout` a timer
 *   cannot hold, or a Looker redirect URI on port 0 (Looker needs the
 *   registered port); `access_denied`, `iss_mismatch`, and every error of
 *   {@linkcode exchangeCode}.
 *
 * @example
 * ```ts ignore
 * import { loginWithBrowser, lookerServer } from "@looker-oauth/pkce";
 *
 * const { tokens } = await loginWithBrowser({
 *   server: lookerServer({ lookerUrl: "https://example.looker.com" }),
 *   clientId: "my-app",
 *   redirectUri: "http://localhost:8080/callback",
 *   onUrl: (url) => console.error(`Opening ${url}`),
 * });
 * ```
 */
export async function loginWithBrowser(
  options: BrowserLoginOptions,
): Promise<BrowserLoginResult> {
  const { server, clientId } = options;
  const waitMs = options.callbackTimeout ?? 300_000;
  // Timers hold at most 2^31 - 1 ms (24.8 days): a larger value fires at once.
  if (!(waitMs > 0 && waitMs <= MAX_WAIT_MS)) {
    throw new OAuthError(
      "invalid_argument",
      `callbackTimeout must be a number of milliseconds between 1 and ${MAX_WAIT_MS}`,
    );
  }
  if (
    server.looker &&
    /^http:\/\/[^/?#]*:0+(?:[/?#]|$)/i.test(options.redirectUri)
  ) {
    throw new OAuthError(
      "invalid_argument",
      "Looker sends the browser back only to the registered redirect URI, port included, so port 0 (any free port) cannot work",
      {
        hint:
          "use the redirect URI registered for the client app, e.g. http://localhost:8080/callback",
      },
    );
  }
  let pending:
    | {
      state: string;
      codeVerifier: string;
      redirectUri: string;
      nonce?: string;
    }
    | undefined;
  // Not the signal: here it cancels the sign-in (a LoginError), below.
  const { signal: _cancels, ...http } = httpOptionsOf(options);
  const authorize = (redirectUri: string) =>
    startAuthorization(server, {
      clientId,
      redirectUri,
      ...(options.scope === undefined ? {} : { scope: options.scope }),
      ...(options.extraParams === undefined
        ? {}
        : { extraParams: options.extraParams }),
    });
  // With a fixed port the URL does not depend on the receiver: build it
  // (PKCE hashing included) while the receiver binds. It is still opened
  // only once the receiver listens.
  const fixedPort = /^http:\/\/[^/]*:(?!0\/|0$)\d+(?:[/?#]|$)/i.test(
    options.redirectUri,
  );
  const early = fixedPort ? authorize(options.redirectUri) : undefined;
  const anyPort = options.anyPort ?? server.looker === undefined;
  const portPicked = anyPort && !fixedPort;
  early?.catch(() => {}); // awaited below; do not report it twice
  const receiver = await startLoopbackReceiver<TokenSet>({
    redirectUri: options.redirectUri,
    anyPort,
    parse: (callback) => {
      if (!pending) {
        throw new OAuthError("state_mismatch", "no sign-in is in progress yet");
      }
      return parseCallback(server, callback, { state: pending.state });
    },
    finish: (code) =>
      exchangeCode(server, {
        ...http,
        clientId,
        redirectUri: pending!.redirectUri,
        code,
        codeVerifier: pending!.codeVerifier,
        ...(pending!.nonce === undefined ? {} : { nonce: pending!.nonce }),
      }),
  });
  const stop = Promise.withResolvers<never>();
  stop.promise.catch(() => {});
  // AbortSignal.timeout, not setTimeout: in Deno 2.9 the first setTimeout
  // starts the Node layer (docs/architecture.md, "Keeping `token` fast"). Its
  // timer does not keep the process alive; the listening receiver does.
  const deadline = AbortSignal.timeout(waitMs);
  const portHint = portPicked ? fixedPortHint(receiver.redirectUri) : undefined;
  const onTimeout = () => {
    if (receiver.phase === "waiting") {
      stop.reject(
        new LoginError(
          "timeout",
          `no answer from the browser within ${Math.round(waitMs / 1000)} s`,
          {
            hint: portHint ??
              "run the sign-in again (--timeout sets how long to wait)",
            redirectUri: receiver.redirectUri,
          },
        ),
      );
    }
  };
  deadline.addEventListener("abort", onTimeout, { once: true });
  // Armed once the URL is out (below); one hint, at most.
  let hintTimer: AbortSignal | undefined;
  const onHintTime = () => {
    if (receiver.phase === "waiting" && portHint !== undefined) {
      options.onStillWaiting?.({
        redirectUri: receiver.redirectUri,
        hint: portHint,
      });
    }
  };
  const onAbort = () =>
    stop.reject(new LoginError("cancelled", "the sign-in was cancelled"));
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    const started = await (early ?? authorize(receiver.redirectUri));
    assertBrowserSafeUrl(started.url);
    // Cancelled while the receiver started: open nothing.
    if (options.signal?.aborted) await stop.promise;
    pending = started;
    options.onUrl?.(started.url);
    if (options.open !== false) {
      if (options.open) {
        await options.open(started.url);
      } else {
        openBrowser(started.url, {
          ...(options.onBrowserFailure === undefined
            ? {}
            : { onFailure: options.onBrowserFailure }),
        });
      }
    }
    if (portHint !== undefined && options.onStillWaiting) {
      const after = options.hintAfter ?? 20_000;
      hintTimer = AbortSignal.timeout(
        Number.isFinite(after) && after >= 0 ? after : 20_000,
      );
      hintTimer.addEventListener("abort", onHintTime, { once: true });
    }
    const racers: Promise<TokenSet>[] = [receiver.result, stop.promise];
    if (options.pasted) {
      racers.push(readPasted(options.pasted, receiver, options));
    }
    const tokens = await Promise.race(racers);
    return { tokens, redirectUri: receiver.redirectUri };
  } finally {
    deadline.removeEventListener("abort", onTimeout);
    hintTimer?.removeEventListener("abort", onHintTime);
    options.signal?.removeEventListener("abort", onAbort);
    // The answer page gets a moment to reach the browser; cancelling now
    // cuts that short.
    const cut = () => receiver.close({ graceMs: 0 });
    if (options.signal?.aborted) cut();
    options.signal?.addEventListener("abort", cut, { once: true });
    try {
      await receiver.close();
    } finally {
      options.signal?.removeEventListener("abort", cut);
    }
  }
}

/**
 * The likely cause of a silent wait on a picked port, and the fix: a fixed
 * port, registered with the client, used as the exact redirect URI.
 */
function fixedPortHint(redirectUri: string): string {
  return `if the browser shows an error from the server (such as a redirect_uri that does not match), the server may not accept any loopback port: register a fixed one for the client, e.g. ${redirectUri}, and sign in with exactly that redirect URI`;
}

/** The longest wait a timer can hold: 2^31 - 1 ms. */
const MAX_WAIT_MS = 2_147_483_647;

async function readPasted(
  lines: AsyncIterable<string>,
  receiver: LoopbackReceiver<TokenSet>,
  options: BrowserLoginOptions,
): Promise<TokenSet> {
  for await (const line of lines) {
    if (line.trim() === "") continue;
    try {
      return await receiver.submit(line);
    } catch (err) {
      // Not this sign-in's callback, or not a URL: ask again. Once a callback
      // was accepted, its outcome is final.
      if (err instanceof OAuthError && receiver.phase === "waiting") {
        options.onPasteRejected?.(err);
        continue;
      }
      throw err;
    }
  }
  // stdin closed: keep waiting for the browser.
  return await new Promise<never>(() => {});
}
