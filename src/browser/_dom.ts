// Private: the browser APIs src/browser uses beyond fetch, URL and Web Crypto,
// typed by their shape so that the module type-checks with the DOM's libs
// (CI's purity check) and with Deno's alike; and the errors that belong to
// pages: a non-secure context and a CORS refusal.
import { OAuthError } from "../core/errors.ts";
import type { HistoryLike } from "./sign_in.ts";

/** The part of `navigator.locks` (Web Locks API) used here. */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

interface PageGlobals {
  navigator?: { locks?: LockManagerLike };
  location?: { href: string; origin: string; assign(url: string): void };
  history?: HistoryLike;
  isSecureContext?: boolean;
  sessionStorage?: Storage;
  localStorage?: Storage;
  addEventListener?(type: "storage", listener: () => void): void;
  removeEventListener?(type: "storage", listener: () => void): void;
}

/** The page's globals, each possibly missing (workers, Deno, tests). */
export const page: PageGlobals = globalThis as PageGlobals;

/** `navigator.locks`, where the platform has it (secure contexts only). */
export function lockManager(): LockManagerLike | undefined {
  return page.navigator?.locks;
}

/** `sessionStorage`, or an `invalid_argument` error where there is none. */
export function sessionStore(): Storage {
  const storage = page.sessionStorage;
  if (!storage) {
    throw new OAuthError(
      "invalid_argument",
      "there is no sessionStorage here",
      {
        hint: "pass a Storage (sessionStorage or localStorage) explicitly",
      },
    );
  }
  return storage;
}

/** The page's URL; `invalid_argument` outside a page. */
export function pageUrl(): URL {
  const href = page.location?.href;
  if (!href) {
    throw new OAuthError("invalid_argument", "there is no page URL here", {
      hint: "pass the URL explicitly",
    });
  }
  return new URL(href);
}

/** This page's origin and path: the default redirect URI. */
export function thisPage(): string {
  const url = pageUrl();
  return `${url.origin}${url.pathname}`;
}

/**
 * Throws `insecure_context` where the browser withholds Web Crypto, which
 * PKCE needs: pages served over plain http from a host other than
 * localhost.
 */
export function assertSecureContext(): void {
  if (page.isSecureContext === false || !globalThis.crypto?.subtle) {
    const origin = page.location?.origin;
    throw new OAuthError(
      "insecure_context",
      `${
        origin ? `${origin} is` : "this page is"
      } not a secure context: the browser offers no Web Crypto here`,
      { hint: "serve the page over HTTPS or from localhost" },
    );
  }
}

/**
 * Wraps `fetch` so that a cross-origin request the browser failed
 * ("TypeError: Failed to fetch") becomes `cors_refused` when the server is
 * in fact up: a `no-cors` request to its origin gets an (opaque) answer.
 * A server that does not answer that either keeps the original error (a
 * `network_error` once the core has mapped it). The hint names Looker's
 * Embedded Domain Allowlist unless `looker` is `false`.
 */
export function corsAwareFetch(
  send: typeof fetch = globalThis.fetch,
  looker = true,
): typeof fetch {
  return async (input, init) => {
    try {
      return await send(input, init);
    } catch (err) {
      const origin = page.location?.origin;
      const target = new URL(input instanceof Request ? input.url : input);
      if (
        !(err instanceof TypeError) || init?.signal?.aborted || !origin ||
        target.origin === origin
      ) {
        throw err;
      }
      const up = await send(target.origin, {
        mode: "no-cors",
        signal: AbortSignal.timeout(5_000),
      }).then(() => true, () => false);
      if (!up) throw err;
      throw new OAuthError(
        "cors_refused",
        `the browser did not let ${origin} read ${target.host}'s answer (CORS)`,
        {
          cause: err,
          hint: looker
            ? `add this page's origin, ${origin}, to Looker's Embedded Domain Allowlist (Admin > Embed)`
            : `allow this page's origin, ${origin}, in the server's CORS settings`,
        },
      );
    }
  };
}
