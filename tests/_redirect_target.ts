/**
 * Test helper: a loopback redirect target that records every callback URL,
 * and the scripted person sent through a sign-in to it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { browse, type Decision } from "../src/emulator/user_agent.ts";
import { serveRecording } from "./_recording_server.ts";

/** A running redirect target. `await using` shuts it down. */
export interface RedirectTarget extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/callback`. */
  readonly redirectUri: string;
  /** Every URL requested, oldest first. */
  readonly callbacks: URL[];
}

/** Starts a redirect target on 127.0.0.1 that answers every request 200. */
export function startRedirectTarget(): RedirectTarget {
  const callbacks: URL[] = [];
  const server = serveRecording(({ url }) => {
    callbacks.push(url);
    return new Response("Signed in. You may close this window.");
  });
  return {
    redirectUri: `${server.base}/callback`,
    callbacks,
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

/**
 * Sends the scripted person from `url` through sign-in; asserts the browser
 * ended on a 200 page and `target` got one more callback.
 *
 * @returns That callback URL.
 */
export async function browseToCallback(
  target: RedirectTarget,
  url: URL,
  decision: Decision,
): Promise<URL> {
  const before = target.callbacks.length;
  const page = await browse(url, { decision });
  assert.equal(page.status, 200, `the browser ended on ${page.url.href}`);
  assert.equal(target.callbacks.length, before + 1);
  return target.callbacks.at(-1)!;
}
