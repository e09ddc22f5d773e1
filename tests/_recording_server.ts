/**
 * Test helper: a server on 127.0.0.1 that records every request it gets,
 * then lets the test's handler answer it.
 *
 * @module
 */

/** A request the server got, its body read as a form. */
export interface Seen {
  readonly method: string;
  readonly url: URL;
  /** The URL's path. */
  readonly path: string;
  readonly headers: Headers;
  readonly form: URLSearchParams;
}

/** A running recording server. `await using` shuts it down. */
export interface RecordingServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** Every request so far, oldest first. */
  readonly requests: Seen[];
}

/** Starts a loopback server that records every request, then lets `handler` answer. */
export function serveRecording(
  handler: (seen: Seen) => Response | Promise<Response>,
): RecordingServer {
  const requests: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const seen: Seen = {
        method: req.method,
        url,
        path: url.pathname,
        headers: req.headers,
        form: new URLSearchParams(await req.text()),
      };
      requests.push(seen);
      return await handler(seen);
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
