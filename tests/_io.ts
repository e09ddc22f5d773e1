// The CLI in-process: a scripted Io (captured output, a table for the
// environment, stdin, Ctrl-C) and a scripted person who signs in through
// the emulator's pages (src/emulator/user_agent.ts) in place of a browser.
import type { Interrupt, Io } from "../src/cli/_io.ts";
import { browse } from "../src/emulator/user_agent.ts";

/** Text written so far, with waits on its content. */
export class Text {
  #text = "";
  #closed = false;
  #waiters = new Set<() => void>();

  /** Everything written so far. */
  get text(): string {
    return this.#text;
  }

  /** Appends text. */
  write(text: string): void {
    this.#text += text;
    this.#wake();
  }

  /** No more text will come. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /**
   * Waits until the text matches `pattern`, at most `timeoutMs`. Rejects when
   * the text is closed or the time runs out first.
   */
  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.#text.match(pattern);
        if (match) {
          finish();
          resolve(match);
        } else if (this.#closed) {
          finish();
          reject(new Error(`ended without ${pattern}:\n${this.#text}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.#text}`),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/** How to build a {@linkcode TestIo}. */
export interface TestIoOptions {
  /** The whole environment: nothing comes from the machine's. */
  env?: Record<string, string>;
  /** The working directory. Default: this process's. */
  cwd?: string;
  /** stdin's content, or `"piped"` to write it with `write()`. Default: empty. */
  stdin?: string | "piped";
  /** The person's browser. Default: none (the system's would be used). */
  browser?: (url: URL) => void | Promise<void>;
  /** Whether stdout is a terminal. Default `false`. */
  stdoutIsTty?: boolean;
}

/** An Io whose output is captured and whose Ctrl-C is a method call. */
export interface TestIo extends Io {
  readonly stdout: Text;
  readonly stderr: Text;
  /** Writes to stdin (with `stdin: "piped"`). */
  write(text: string): Promise<void>;
  /** Ends stdin. */
  closeStdin(): Promise<void>;
  /** Presses Ctrl-C; `false` when nothing watched it (it would have killed the process). */
  pressCtrlC(): boolean;
}

/** A scripted process for `main(argv, io)`. */
export function testIo(options: TestIoOptions = {}): TestIo {
  const env = { ...options.env };
  const stdout = new Text();
  const stderr = new Text();
  const decoder = new TextDecoder();
  const watching = new Set<AbortController>();
  const piped = options.stdin === "piped" ? new TransformStream() : undefined;
  const writer = piped?.writable.getWriter();
  let stdinClosed = false;
  const closeStdin = async () => {
    if (writer && !stdinClosed) {
      stdinClosed = true;
      await writer.close().catch(() => {});
    }
  };
  return {
    stdout,
    stderr,
    out: (text) => stdout.write(text),
    outBytes: (bytes) => stdout.write(decoder.decode(bytes)),
    err: (text) => stderr.write(`${text}\n`),
    stdoutIsTty: options.stdoutIsTty ?? false,
    stderrIsTty: false,
    stdin: () =>
      piped?.readable ??
        new Blob([options.stdin === undefined ? "" : options.stdin]).stream(),
    env: (name) => env[name],
    cwd: () => options.cwd ?? Deno.cwd(),
    now: () => Date.now(),
    interrupt: (): Interrupt => {
      const controller = new AbortController();
      watching.add(controller);
      return {
        signal: controller.signal,
        [Symbol.dispose]: () => watching.delete(controller),
      };
    },
    ...(options.browser ? { browser: options.browser } : {}),
    debugging: false,
    debug: () => {},
    write: async (text) => {
      if (!writer) throw new Error('made without stdin: "piped"');
      await writer.write(new TextEncoder().encode(text));
    },
    closeStdin,
    pressCtrlC: () => {
      for (const controller of watching) controller.abort();
      return watching.size > 0;
    },
  };
}

/** What the scripted person saw of one sign-in page visit. */
export interface Visit {
  /** The last page's status and path (no query: it may hold the code). */
  status?: number;
  path?: string;
  /** Why the visit failed (no query either). */
  error?: string;
  /** The redirect back to the receiver, if it was reached. */
  callback?: { status: number; path: string; via: string };
  /** The authorization code the callback carried. */
  code?: string;
}

/** How the scripted person behaves. */
export interface PersonOptions {
  /** Allow (default) or deny on the consent page. */
  decision?: "approve" | "deny";
  /** Opens nothing: a person who never comes back. */
  away?: boolean;
  /** Reach a `localhost` redirect URI over this address (Host stays localhost). */
  loopback?: "127.0.0.1" | "::1";
  /** Callback parameters to change: a string sets, `null` removes (a forged `iss`). */
  tamper?: Record<string, string | null>;
  /**
   * A CA certificate (PEM text) the browser trusts, as a person's browser
   * trusts the company CA installed on their machine.
   */
  caPem?: string;
}

/** A scripted person at a browser: pass `browser` as the Io's. */
export interface Person {
  readonly browser: (url: URL) => void;
  /** The URLs the CLI opened. */
  readonly opened: readonly URL[];
  /** The finished visits, in order. */
  readonly visits: readonly Visit[];
  /** Waits for the visits in flight; returns them all. */
  settled(): Promise<readonly Visit[]>;
  /**
   * Calls `listener` when a visit fails (the page could not be browsed), so
   * a run waiting for the callback ends at once instead of at its timeout.
   */
  onFailure(listener: (visit: Visit) => void): void;
}

/** A person who signs in (as ada@example.com) on the pages the CLI opens. */
export function scriptedPerson(options: PersonOptions = {}): Person {
  const opened: URL[] = [];
  const visits: Visit[] = [];
  const inFlight = new Set<Promise<void>>();
  const failureListeners: ((visit: Visit) => void)[] = [];
  const browser = (url: URL) => {
    opened.push(url);
    if (options.away) return;
    const visit = visitOnce(url, options).then((v) => {
      visits.push(v);
      if (v.error !== undefined) {
        for (const listener of failureListeners) listener(v);
      }
    });
    inFlight.add(visit);
    visit.finally(() => inFlight.delete(visit));
  };
  return {
    browser,
    opened,
    visits,
    settled: async () => {
      while (inFlight.size > 0) await Promise.all(inFlight);
      return visits;
    },
    onFailure: (listener) => {
      failureListeners.push(listener);
    },
  };
}

async function visitOnce(start: URL, options: PersonOptions): Promise<Visit> {
  const redirect = start.searchParams.get("redirect_uri");
  const callback = redirect ? new URL(redirect) : undefined;
  const tamper = options.tamper ?? {};
  const loopback = options.loopback;
  const visit: Visit = {};
  using client = options.caPem
    ? Deno.createHttpClient({ caCerts: [options.caPem] })
    : undefined;
  const send: typeof fetch = client
    ? (input, init) => fetch(input, { ...init, client })
    : fetch;
  const scriptedFetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const isCallback = callback !== undefined &&
      url.protocol === callback.protocol &&
      url.pathname === callback.pathname &&
      url.hostname === callback.hostname &&
      (callback.port === "" || url.port === callback.port);
    if (!isCallback) return await send(input, init);
    for (const [name, value] of Object.entries(tamper)) {
      if (value === null) url.searchParams.delete(name);
      else url.searchParams.set(name, value);
    }
    const code = url.searchParams.get("code");
    if (code) visit.code = code;
    const via = loopback && url.hostname === "localhost" ? loopback : "fetch";
    const response = via === "fetch"
      ? await send(url, init)
      : await rawGet(url, via);
    visit.callback = { status: response.status, path: url.pathname, via };
    return response;
  };
  try {
    const page = await browse(start, {
      decision: options.decision ?? "approve",
      fetch: scriptedFetch,
    });
    return { ...visit, status: page.status, path: page.url.pathname };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ...visit, error: message.replace(/\?\S*/g, "?…") };
  }
}

/** One GET over a raw TCP connection to `address`, with the URL's Host. */
async function rawGet(url: URL, address: string): Promise<Response> {
  const conn = await Deno.connect({
    hostname: address,
    port: Number(url.port || 80),
  });
  try {
    const request = `GET ${url.pathname}${url.search} HTTP/1.0\r\n` +
      `Host: ${url.host}\r\nAccept: text/html\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const text = await new Response(conn.readable).text();
    const end = text.indexOf("\r\n\r\n");
    const [statusLine, ...headerLines] = text.slice(0, end).split("\r\n");
    const status = Number(statusLine?.split(" ")[1]);
    const headers = new Headers();
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.append(
          line.slice(0, colon).trim(),
          line.slice(colon + 1).trim(),
        );
      }
    }
    return new Response(text.slice(end + 4), { status, headers });
  } finally {
    try {
      conn.close();
    } catch {
      // closed by reading it to the end
    }
  }
}
