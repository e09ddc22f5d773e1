/**
 * The loopback redirect receiver (RFC 8252 §7.3): a one-shot HTTP server on
 * 127.0.0.1 and/or ::1 that waits for the browser to come back with the
 * authorization code.
 *
 * @module
 */
import { OAuthError } from "../core/errors.ts";
import { redact } from "../core/transport.ts";
import { LoginError } from "./errors.ts";
import { page, plain } from "./_pages.ts";

/** Options for {@linkcode startLoopbackReceiver}. */
export interface LoopbackReceiverOptions<T> {
  /**
   * The redirect URI: `http://` on `localhost` (listens on both 127.0.0.1 and
   * ::1), `127.0.0.1` or `[::1]`. Port `0`, or no port with `anyPort`, picks a
   * free port.
   */
  redirectUri: string;
  /**
   * With no port in `redirectUri`, pick a free one (for servers that accept any
   * loopback port, RFC 8252 §7.3) rather than port 80. Default `false`.
   */
  anyPort?: boolean;
  /**
   * Checks a callback URL and returns the code. Must throw an `OAuthError`
   * with code `state_mismatch` for callbacks that are not ours: those are
   * answered 400 and the receiver keeps waiting.
   */
  parse: (callback: URL) => string;
  /** Finishes the sign-in with the code (the code exchange). */
  finish: (code: string) => Promise<T>;
  /** The success page's sentence. */
  successMessage?: (result: T) => string;
}

/** A listening receiver. */
export interface LoopbackReceiver<T> extends AsyncDisposable {
  /** The redirect URI to send, with the port actually used. */
  readonly redirectUri: string;
  /** The addresses listened on, e.g. `127.0.0.1:8080` and `[::1]:8080`. */
  readonly addresses: readonly string[];
  /** Settles with the first valid callback's outcome. */
  readonly result: Promise<T>;
  /**
   * `waiting` for a callback, `busy` finishing one (the code exchange), or
   * `done`.
   */
  readonly phase: "waiting" | "busy" | "done";
  /**
   * Feeds a callback URL that arrived another way (pasted by the person).
   * Forged ones throw `state_mismatch` and leave the receiver waiting.
   *
   * @param callback The full redirected URL.
   * @returns The sign-in's outcome.
   */
  submit(callback: string): Promise<T>;
  /**
   * Stops listening and frees the port. Answers already being written (the
   * page the browser waits for) get up to `graceMs` to go out; then every
   * connection still open is cut, so a client that never finishes its
   * request cannot hold the receiver open. Idempotent: a later call with a
   * smaller `graceMs` shortens the wait (Ctrl-C during the grace).
   *
   * @param options `graceMs`, default 2 000.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

interface Outcome {
  status: number;
  kind: "success" | "failure" | "ignored";
  title: string;
  message: string;
}

/**
 * Starts listening on the redirect URI's loopback address and port. It
 * answers only GET on the redirect path with a `Host` equal to the redirect
 * URI's host (else 421, against DNS rebinding), other paths with 404, other
 * methods with 405, and accepts exactly one callback whose `state` is ours;
 * later ones get 409.
 *
 * @param options The redirect URI and what to do with a callback.
 * @returns The listening receiver.
 * @throws {LoginError} `port_in_use` when the port is taken, `not_loopback`
 *   when the redirect URI is not `http://` on a loopback host.
 *
 * @example
 * ```ts ignore
 * import {
 *   type AuthServer,
 *   exchangeCode,
 *   parseCallback,
 *   startLoopbackReceiver,
 * } from "@looker-oauth/pkce";
 *
 * declare const server: AuthServer;
 * declare const clientId: string;
 * const redirectUri = "http://localhost:8080/callback";
 * // state and codeVerifier: from startAuthorization(), as the URL opened
 * declare const state: string;
 * declare const codeVerifier: string;
 * await using receiver = await startLoopbackReceiver({
 *   redirectUri,
 *   parse: (url) => parseCallback(server, url, { state }),
 *   finish: (code) => exchangeCode(server, { clientId, redirectUri, code, codeVerifier }),
 * });
 * const tokens = await receiver.result;
 * ```
 */
export async function startLoopbackReceiver<T>(
  options: LoopbackReceiverOptions<T>,
): Promise<LoopbackReceiver<T>> {
  let redirect: URL;
  try {
    redirect = new URL(options.redirectUri);
  } catch {
    throw new LoginError("not_loopback", "the redirect URI is not a URL");
  }
  const hostname = redirect.hostname.toLowerCase();
  const bind = hostname === "localhost"
    ? ["127.0.0.1", "::1"]
    : hostname === "127.0.0.1"
    ? ["127.0.0.1"]
    : hostname === "[::1]"
    ? ["::1"]
    : undefined;
  if (redirect.protocol !== "http:" || bind === undefined) {
    // Say what is wrong: the scheme, or the host (a URL of another scheme
    // has no origin to quote: `myapp:/cb`'s is "null").
    const wrong = redirect.protocol !== "http:"
      ? `${options.redirectUri} uses ${redirect.protocol}`
      : `${redirect.host} is not this machine's loopback`;
    throw new LoginError(
      "not_loopback",
      `a browser sign-in on this machine needs a redirect URI on http://localhost, http://127.0.0.1 or http://[::1]: ${wrong}`,
      {
        hint:
          "register a loopback redirect URI such as http://localhost:8080/callback with the server",
      },
    );
  }
  const explicitPort = redirect.port !== "";
  const wanted = explicitPort
    ? Number(redirect.port)
    : options.anyPort
    ? 0
    : 80;
  const path = redirect.pathname || "/";

  const settled = Promise.withResolvers<T>();
  settled.promise.catch(() => {}); // observed by the caller, not here
  let phase: "waiting" | "busy" | "done" = "waiting";

  const accept = async (callback: URL): Promise<Outcome> => {
    if (phase !== "waiting") {
      return {
        status: 409,
        kind: "ignored",
        title: "Already used",
        message:
          "This sign-in has already received its answer. You can close this tab.",
      };
    }
    let code: string;
    try {
      code = options.parse(callback);
    } catch (err) {
      if (err instanceof OAuthError && err.code === "state_mismatch") {
        return {
          status: 400,
          kind: "ignored",
          title: "Not for this sign-in",
          message:
            "This answer does not belong to the sign-in in progress, so it was ignored.",
        };
      }
      phase = "done";
      settled.reject(err);
      return failure(err, callback);
    }
    phase = "busy";
    try {
      const result = await options.finish(code);
      phase = "done";
      settled.resolve(result);
      return {
        status: 200,
        kind: "success",
        title: "Signed in",
        message: options.successMessage?.(result) ??
          "You are signed in. You can close this tab and return to the terminal.",
      };
    } catch (err) {
      phase = "done";
      settled.reject(err);
      return failure(err, callback);
    }
  };

  const servers: Listener[] = [];
  let port = wanted;
  let allowedHost = "";
  // Answers not yet fully written; close() lets them finish, for a while.
  const unfinished = new Set<Promise<void>>();
  const handler = async (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> => {
    const completed = info.completed.then(() => {}, () => {});
    unfinished.add(completed);
    completed.then(() => unfinished.delete(completed));
    const host = request.headers.get("host")?.toLowerCase();
    if (host !== allowedHost) {
      return plain(
        421,
        `Misdirected Request: this server answers only to ${allowedHost}`,
      );
    }
    const url = new URL(request.url);
    if (url.pathname !== path) return plain(404, "Not Found");
    if (request.method !== "GET") {
      return plain(405, "Method Not Allowed", { allow: "GET" });
    }
    const outcome = await accept(url);
    return page(outcome.status, outcome.kind, outcome.title, outcome.message);
  };

  // Each server gets its own abort signal: aborting one cuts its open
  // connections at once, where `shutdown()` would wait for every client,
  // even one that sent half a request and keeps the socket.
  const listen = (address: string, onPort: number): Listener => {
    const controller = new AbortController();
    const server = Deno.serve({
      hostname: address,
      port: onPort,
      signal: controller.signal,
      onListen: () => {},
    }, handler);
    return {
      server,
      stop: () => {
        controller.abort();
        return server.finished;
      },
    };
  };
  const stopAll = (listeners: Listener[]) =>
    Promise.all(listeners.map((l) => l.stop()));

  // Bind the first address (possibly on port 0), then the second on the same
  // port; retry a few times if port 0 gave a port the other family has taken.
  for (let attempt = 0;; attempt++) {
    try {
      const first = listen(bind[0]!, wanted);
      servers.push(first);
      port = first.server.addr.port;
    } catch (err) {
      throw bindError(err, hostname, wanted);
    }
    if (bind.length === 1) break;
    try {
      servers.push(listen(bind[1]!, port));
      break;
    } catch (err) {
      if (err instanceof Deno.errors.AddrNotAvailable) break; // no IPv6 here
      if (wanted === 0 && attempt < 5) {
        await stopAll(servers.splice(0));
        continue;
      }
      await stopAll(servers.splice(0));
      throw bindError(err, hostname, wanted);
    }
  }

  const redirectUri =
    explicitPort && wanted !== 0 || (!explicitPort && wanted === 80)
      ? options.redirectUri
      : `http://${redirect.hostname}:${port}${redirect.pathname}${redirect.search}`;
  allowedHost = new URL(redirectUri).host.toLowerCase();

  let closing: Promise<void> | undefined;
  const cut = Promise.withResolvers<void>();
  const close = (options: { graceMs?: number } = {}): Promise<void> => {
    const graceMs = Math.max(0, options.graceMs ?? 2_000);
    if (graceMs === 0) cut.resolve();
    else sleep(graceMs).then(() => cut.resolve());
    closing ??= (async () => {
      // `completed` settles once an answer is handed to the HTTP layer,
      // which writes it to the socket on its next turns: give it those,
      // then cut.
      const answered = Promise.all(unfinished).then(() => sleep(FLUSH_MS));
      await Promise.race([answered, cut.promise]);
      await stopAll(servers);
      // `finished` can settle a moment before the kernel lets the port go;
      // when close() resolves, the port must be free for the next sign-in.
      await untilBindable(servers.map((l) => l.server.addr));
    })();
    return closing;
  };

  return {
    redirectUri,
    addresses: servers.map(({ server: { addr } }) =>
      addr.hostname.includes(":")
        ? `[${addr.hostname}]:${addr.port}`
        : `${addr.hostname}:${addr.port}`
    ),
    result: settled.promise,
    get phase() {
      return phase;
    },
    async submit(callback: string): Promise<T> {
      let url: URL;
      try {
        url = new URL(callback.trim());
      } catch {
        throw new OAuthError(
          "invalid_callback",
          "that is not a URL: paste the whole address from the browser's address bar",
        );
      }
      const outcome = await accept(url);
      if (outcome.kind === "ignored" && outcome.status === 400) {
        throw new OAuthError(
          "state_mismatch",
          "that URL does not belong to this sign-in",
          { hint: "paste the address the browser shows after you approve" },
        );
      }
      return await settled.promise;
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

/** How long an answer handed to the HTTP layer gets to reach the socket. */
const FLUSH_MS = 25;

/** The longest close() waits for the kernel to release a stopped port. */
const RELEASE_MS = 1_000;

async function untilBindable(addresses: Deno.NetAddr[]): Promise<void> {
  const deadline = Date.now() + RELEASE_MS;
  for (const { hostname, port } of addresses) {
    for (;;) {
      try {
        Deno.listen({ hostname, port }).close();
        break;
      } catch (err) {
        // Taken by someone else for good, or the wait is over: give up.
        if (!(err instanceof Deno.errors.AddrInUse) || Date.now() > deadline) {
          break;
        }
        await sleep(5);
      }
    }
  }
}

/** AbortSignal.timeout, not setTimeout: see loopback/login.ts. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) =>
    AbortSignal.timeout(ms).addEventListener("abort", () => resolve(), {
      once: true,
    })
  );
}

interface Listener {
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  /** Stops listening and cuts every open connection. */
  stop(): Promise<void>;
}

function failure(err: unknown, callback: URL): Outcome {
  if (err instanceof OAuthError && err.code === "access_denied") {
    return {
      status: 403,
      kind: "failure",
      title: "Sign-in declined",
      message: "You declined the request. You can close this tab.",
    };
  }
  // The message may quote what the server sent (an error_description); the
  // page must not show the callback's code or state, even quoted back.
  const message = redact(
    err instanceof Error ? err.message : "unknown error",
    [
      ...callback.searchParams.getAll("code"),
      ...callback.searchParams.getAll("state"),
    ],
  );
  return {
    status: 400,
    kind: "failure",
    title: "Sign-in failed",
    message: `${message}. Details are in the terminal.`,
  };
}

function bindError(err: unknown, hostname: string, port: number): Error {
  if (err instanceof Deno.errors.AddrInUse) {
    return new LoginError(
      "port_in_use",
      `port ${port} on ${hostname} is already in use, so the sign-in cannot receive the browser's answer there`,
      {
        cause: err,
        hint:
          `stop the program using port ${port} (e.g. an earlier login still waiting), or register another redirect URI with a free port and pass it with --redirect-uri`,
      },
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
