// The scripted browser the CLI tests use as $BROWSER:
//
//   BROWSER="deno run --allow-net --allow-env --allow-write tests/_browser.ts"
//
// The CLI runs it with the authorization URL as the last argument. It plays
// the person with browse() (src/emulator/user_agent.ts). Environment:
//
// - SCRIPTED_BROWSER_DECISION  approve (default) or deny
// - SCRIPTED_BROWSER_MODE      browse (default), or noop: open nothing (a
//                              person who never comes back)
// - SCRIPTED_BROWSER_LOOPBACK  127.0.0.1 or ::1: reach a `localhost` redirect
//                              URI over that address (Host stays localhost:port)
// - SCRIPTED_BROWSER_LOG       a file to append one JSON line to: the final
//                              status and URL path, and the callback's (never
//                              the code or any query)
// - SCRIPTED_BROWSER_CODE_FILE a file to write the authorization code seen
//                              in the callback (for the --debug leak test)
// - SCRIPTED_BROWSER_TAMPER    a JSON object of callback parameters to change
//                              before the callback is requested: a string
//                              sets one, null removes it (a forged `iss`)
// - SCRIPTED_BROWSER_CA_PEM    a CA certificate (PEM text) the browser
//                              trusts, as a person's browser trusts the
//                              company CA installed on their machine
import { browse } from "../src/emulator/user_agent.ts";

const env = (name: string) => Deno.env.get(name);
const target = Deno.args.at(-1);
const log = env("SCRIPTED_BROWSER_LOG");
const codeFile = env("SCRIPTED_BROWSER_CODE_FILE");
const loopback = env("SCRIPTED_BROWSER_LOOPBACK");
const decision = env("SCRIPTED_BROWSER_DECISION") === "deny"
  ? "deny"
  : "approve";
const mode = env("SCRIPTED_BROWSER_MODE") ?? "browse";
const tamper: Record<string, string | null> = JSON.parse(
  env("SCRIPTED_BROWSER_TAMPER") ?? "{}",
);
const caPem = env("SCRIPTED_BROWSER_CA_PEM");
const client = caPem ? Deno.createHttpClient({ caCerts: [caPem] }) : undefined;
const send: typeof fetch = client
  ? (input, init) => fetch(input, { ...init, client })
  : fetch;

async function record(entry: Record<string, unknown>): Promise<void> {
  if (log) {
    await Deno.writeTextFile(log, JSON.stringify(entry) + "\n", {
      append: true,
    });
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
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16_384);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    const text = new TextDecoder().decode(bytes);
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
    conn.close();
  }
}

if (!target) {
  await record({ error: "no URL given" });
  Deno.exit(2);
}
if (mode === "noop") {
  await record({ mode: "noop" });
  Deno.exit(0);
}

const start = new URL(target);
const redirect = start.searchParams.get("redirect_uri");
const callback = redirect ? new URL(redirect) : undefined;
let callbackEntry: Record<string, unknown> | undefined;

const scriptedFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const isCallback = callback !== undefined &&
    url.protocol === callback.protocol && url.pathname === callback.pathname &&
    url.hostname === callback.hostname &&
    (callback.port === "" || url.port === callback.port);
  if (!isCallback) return await send(input, init);
  for (const [name, value] of Object.entries(tamper)) {
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  if (Object.keys(tamper).length > 0) input = url;
  const code = url.searchParams.get("code");
  if (codeFile && code) await Deno.writeTextFile(codeFile, code);
  const response = loopback && url.hostname === "localhost"
    ? await rawGet(url, loopback)
    : await fetch(input, init);
  callbackEntry = {
    status: response.status,
    path: url.pathname,
    via: loopback && url.hostname === "localhost" ? loopback : "fetch",
  };
  return response;
};

try {
  const page = await browse(start, { decision, fetch: scriptedFetch });
  await record({
    status: page.status,
    path: page.url.pathname,
    ...(callbackEntry ? { callback: callbackEntry } : {}),
  });
} catch (err) {
  await record({
    // Never the query: it may hold the code.
    error: (err instanceof Error ? err.message : String(err)).replace(
      /\?\S*/g,
      "?…",
    ),
    ...(callbackEntry ? { callback: callbackEntry } : {}),
  });
  Deno.exit(1);
}
