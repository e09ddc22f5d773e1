// deno-lint-ignore-file no-console
/**
 * Serves the browser example (index.html and its bundled script) on
 * `http://localhost:PORT/`, which is also its redirect URI.
 *
 *     deno task example:browser
 *         starts the project's Looker emulator too (the page's origin on its
 *         Embedded Domain Allowlist, the app registered) and prints the URL
 *     deno task example:browser --looker-url URL --api-url URL --client-id ID --port N
 *         serves the page for a real Looker: register the app with
 *         redirect_uri http://localhost:N/ and add http://localhost:N to
 *         Admin > Embed > Embedded Domain Allowlist first
 *
 * @module
 */
import {
  type LookerEmulator,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";

/** What the page is configured with (the JSON in index.html). */
export interface ExampleConfig {
  /** The Looker UI URL. */
  lookerUrl: string;
  /** The Looker API URL. */
  apiUrl: string;
  /** The registered client_guid. */
  clientId: string;
  /** Where the page keeps the tokens. Default `session`. */
  storage?: "session" | "local";
}

/** Options for {@linkcode serveExample}. */
export interface ServeOptions {
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** The page's script; bundled from app.ts when not given. */
  script?: string;
}

/** The running example. `await using` stops it. */
export interface ExampleServer extends AsyncDisposable {
  /** `http://localhost:PORT/`: the page, and its redirect URI. */
  readonly url: string;
  /** The port it listens on (127.0.0.1, and ::1 where there is one). */
  readonly port: number;
  /** Stops listening. */
  close(): Promise<void>;
}

const HERE = new URL(".", import.meta.url);

/**
 * Bundles app.ts and the library for the browser, minified:
 * `deno bundle --platform browser --minify examples/browser/app.ts`.
 */
export async function bundleApp(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      new URL("app.ts", HERE).pathname,
    ],
    cwd: new URL("../..", HERE).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `deno bundle failed:\n${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** The page with `config` in place of the sample settings. */
export async function examplePage(config: ExampleConfig): Promise<string> {
  const html = await Deno.readTextFile(new URL("index.html", HERE));
  // JSON in a script element: "<" escaped so no "</script>" can end it.
  const json = JSON.stringify(config, null, 2).replaceAll("<", "\\u003c");
  return html.replace(
    /(<script id="config" type="application\/json">)[\s\S]*?(<\/script>)/,
    (_, open, close) => `${open}\n${json}\n    ${close}`,
  );
}

/**
 * Serves the page at `/` (also the callback: the code arrives in its query)
 * and its script at `/app.js`, with a Content-Security-Policy that lets the
 * page talk to Looker's API host only and a `no-referrer` policy (the
 * callback URL holds the code until the script removes it).
 *
 * @param config The page's settings.
 * @param options Port, script.
 * @returns The running server.
 */
export async function serveExample(
  config: ExampleConfig,
  options: ServeOptions = {},
): Promise<ExampleServer> {
  const [page, script] = await Promise.all([
    examplePage(config),
    options.script ?? bundleApp(),
  ]);
  const api = new URL(config.apiUrl).origin;
  const headers = {
    "content-security-policy": [
      "default-src 'none'",
      "script-src 'self'",
      `connect-src ${api}`,
      "style-src 'unsafe-inline'",
      "img-src data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };
  const handler = (request: Request): Response => {
    const { pathname } = new URL(request.url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed", { status: 405 });
    }
    if (pathname === "/" || pathname === "/index.html") {
      return new Response(page, {
        headers: { ...headers, "content-type": "text/html; charset=utf-8" },
      });
    }
    if (pathname === "/app.js") {
      return new Response(script, {
        headers: {
          ...headers,
          "content-type": "text/javascript; charset=utf-8",
        },
      });
    }
    return new Response("Not found", { status: 404, headers });
  };
  const quiet = { onListen: () => {} };
  const v4 = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    handler,
    ...quiet,
  });
  const port = v4.addr.port;
  // localhost is ::1 as well; a machine without IPv6 serves 127.0.0.1 only.
  let v6: Deno.HttpServer | undefined;
  try {
    v6 = Deno.serve({ hostname: "::1", port, handler, ...quiet });
  } catch {
    v6 = undefined;
  }
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= Promise.all([v4.shutdown(), v6?.shutdown()]).then(() => {});
  return {
    url: `http://localhost:${port}/`,
    port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const HELP = `Serves the browser example on http://localhost:PORT/.

Usage:
  deno task example:browser
      with the project's Looker emulator (nothing else needed)
  deno task example:browser --looker-url URL [--api-url URL] --client-id ID [--port N]
      for a real Looker; first register the app with redirect_uri
      http://localhost:N/ and add http://localhost:N to Admin > Embed >
      Embedded Domain Allowlist

Options:
  --looker-url URL   the Looker UI URL, e.g. https://example.looker.com
  --api-url URL      the Looker API URL (default: the Looker URL)
  --client-id ID     the registered client_guid
  --port N           the port (default 8080 with --looker-url; a free one
                     with the emulator)
  --local-storage    keep the tokens in localStorage (every tab) rather
                     than sessionStorage (this tab)
  -h, --help         this help`;

interface Flags {
  lookerUrl?: string;
  apiUrl?: string;
  clientId?: string;
  port?: number;
  local: boolean;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { local: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") usage(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "-h":
      case "--help":
        console.log(HELP);
        Deno.exit(0);
        break;
      case "--looker-url":
        flags.lookerUrl = value();
        break;
      case "--api-url":
        flags.apiUrl = value();
        break;
      case "--client-id":
        flags.clientId = value();
        break;
      case "--port": {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          usage("--port must be a number from 1 to 65535");
        }
        flags.port = port;
        break;
      }
      case "--local-storage":
        flags.local = true;
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  if (flags.lookerUrl === undefined) {
    if (flags.apiUrl !== undefined || flags.clientId !== undefined) {
      usage("--api-url and --client-id go with --looker-url");
    }
  } else if (flags.clientId === undefined) {
    usage("--looker-url needs --client-id (the registered client_guid)");
  }
  return flags;
}

function usage(message: string): never {
  console.error(`example:browser: ${message}\n\n${HELP}`);
  Deno.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const storage = flags.local ? { storage: "local" as const } : {};
  let looker: LookerEmulator | undefined;
  let server: ExampleServer;
  if (flags.lookerUrl !== undefined) {
    server = await serveExample({
      lookerUrl: flags.lookerUrl,
      apiUrl: flags.apiUrl ?? flags.lookerUrl,
      clientId: flags.clientId!,
      ...storage,
    }, { port: flags.port ?? 8080 });
    console.log(`Serving the example for ${flags.lookerUrl}.`);
  } else {
    // The page's port comes first: Looker needs its URL.
    const script = await bundleApp();
    const probe = Deno.listen({ hostname: "127.0.0.1", port: flags.port ?? 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const origin = `http://localhost:${port}`;
    const clientId = "looker-oauth-browser-example";
    looker = await startLookerEmulator({
      apps: [{
        client_guid: clientId,
        redirect_uri: `${origin}/`,
        display_name: "looker-oauth browser example",
        description: "Shows your name, read from the Looker API.",
        enabled: true,
      }],
      allowedOrigins: [origin],
    });
    server = await serveExample({
      lookerUrl: looker.lookerUrl,
      apiUrl: looker.apiUrl,
      clientId,
      ...storage,
    }, { port, script });
    console.log(
      `The Looker emulator runs at ${looker.lookerUrl} (API ${looker.apiUrl}); ` +
        "its sign-in page takes any email and password.",
    );
  }
  console.log(`Open ${server.url}\nCtrl-C stops.`);
  const stop = async () => {
    await server.close();
    await looker?.close();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", stop);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    console.error(
      "example:browser: the port is in use; pick another with --port N " +
        "(and register http://localhost:N/ as the app's redirect_uri)",
    );
    Deno.exit(1);
  }
}
