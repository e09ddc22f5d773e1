// `looker-oauth api`: one API call with the signed-in session.
import { lookerApiPath } from "../looker/api.ts";
import { list, parseArgs, str, UsageError } from "./_args.ts";
import { localState } from "./_profile.ts";
import { assertApiTarget } from "./_api_target.ts";
import { CliError, EXIT } from "./_errors.ts";
import { shown } from "./_text.ts";
import type { Env, Io } from "./_io.ts";
import { connectProfile } from "./_server.ts";
import { DEFAULT_REFRESH_MARGIN_MS } from "../core/refresh_margin.ts";
import { assertClientId } from "../core/transport.ts";
import {
  sendWithToken,
  sessionApiUrl,
  signedOut,
  tokenRequestUrl,
} from "../core/api_request.ts";

export const HELP =
  `Usage: looker-oauth api [-X METHOD] PATH [--data JSON|@FILE|-] [-q K=V]... [-H 'N: V']... [-i] [--profile NAME]

Calls the Looker API as the signed-in user and prints the response body on
stdout (pretty JSON on a terminal). The token is refreshed when needed, and
once more if the API answers 401.

  PATH             /user means /api/4.0/user; /api/... is used as given.
                   For other servers, a path under the profile's API URL.
                   A full URL must be on the API URL's origin (without
                   one, the issuer's): the token goes nowhere else.
  -X, --method M   GET (default), or POST when --data is given; also HEAD,
                   PUT, PATCH, DELETE
  --data D         a JSON body: the JSON itself, @file to read a file, or -
                   to read stdin
  -q, --query K=V  add a query parameter (repeatable; encoded for you)
  -H, --header 'Name: value'
                   add a request header (repeatable); Authorization is the
                   session's own and cannot be set
  -i, --include    print the status line and response headers before the body
  --profile NAME   the profile (default: $LOOKER_OAUTH_PROFILE, else "default")

Examples:
  looker-oauth api /user
  looker-oauth api -X PATCH /users/1 --data '{"first_name":"Ada"}'
  looker-oauth api /api/versions
  looker-oauth api /users/search -q email=ada@example.com -q fields=id,email
  looker-oauth api -i /user

Requests carry x-looker-appid: looker-oauth/<version>. A 429 or 503 with
Retry-After is waited for and retried once (not for POST or PATCH).
LOOKERSDK_TIMEOUT (seconds; else looker.ini's timeout at login) bounds the
call.

Exit codes: 0 2xx; 1 any other status (Looker's message on stderr); 3 not
signed in.`;

/** What `api` was asked. */
export interface ApiOptions {
  /** The path or full URL. */
  readonly path: string;
  /** The HTTP method, upper case. */
  readonly method: string;
  /** `--data`: JSON text, `@file`, or `-` for stdin; read when run. */
  readonly data: string | undefined;
  /** `--profile`, if given. */
  readonly profile: string | undefined;
  /** `-q key=value`, in order, added to the URL's query. */
  readonly query: readonly (readonly [string, string])[];
  /** `-H 'Name: value'`, in order. */
  readonly headers: readonly (readonly [string, string])[];
  /** `-i`: print the status line and headers first. */
  readonly include: boolean;
}

/** The methods `-X` takes: the ones the Looker API uses, and HEAD. */
const METHODS: readonly string[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
];

/** Reads `api`'s flags. */
export function parseApi(argv: string[], _env: Env): ApiOptions {
  const args = parseArgs(argv, {
    string: ["method", "data", "profile", "query", "header"],
    boolean: ["include"],
    alias: { X: "method", d: "data", q: "query", H: "header", i: "include" },
    repeatable: ["query", "header"],
    maxPositionals: 1,
  }, "api");
  const query = list(args, "query").map(parseQuery);
  const extraHeaders = list(args, "header").map(parseHeader);
  const path = args.positionals[0];
  if (!path) {
    throw new UsageError("which path? e.g. looker-oauth api /user", "api");
  }
  const data = str(args, "data");
  const method = (str(args, "method") ?? (data === undefined ? "GET" : "POST"))
    .toUpperCase();
  if (!METHODS.includes(method)) {
    throw new UsageError(
      `${method} is not a method the Looker API takes (${METHODS.join(", ")})`,
      "api",
    );
  }
  return {
    path,
    method,
    data,
    profile: str(args, "profile"),
    query,
    headers: extraHeaders,
    include: args.flags.include === true,
  };
}

/** Makes one API call with the profile's session and prints the body. */
export async function runApi(options: ApiOptions, io: Io): Promise<number> {
  const { path, method, data, query } = options;
  const extraHeaders = options.headers;
  const body = data === undefined ? undefined : await readBody(data, io);

  const local = localState(io, options.profile);
  const name = local.profile;
  // A valid token is sent through the session's own checks (where it may
  // go, the Authorization header) without loading the session, the core's
  // refresh code or oauth4webapi; an expired token or a 401 goes to the
  // session as before. docs/architecture.md, "Keeping `token` fast".
  const connection = await connectProfile({ ...local, io });
  const { profile } = connection;
  // What the session's constructor checks, in its order.
  assertClientId(profile.clientId);
  const apiBase = sessionApiUrl(connection.apiUrl, connection.server);
  let target: string;
  if (/^https?:\/\//i.test(path)) {
    target = path;
  } else if (profile.kind === "looker") {
    target = lookerApiPath(path);
  } else {
    if (!profile.apiUrl) {
      throw new CliError("this profile has no API URL for relative paths", {
        exitCode: EXIT.usage,
        hint: "give a full URL, or sign in with --api-url",
      });
    }
    target =
      new URL(path.replace(/^\/+/, ""), profile.apiUrl.replace(/\/*$/, "/"))
        .href;
  }
  assertApiTarget(
    new URL(target, profile.apiUrl ?? profile.lookerUrl),
    profile,
    name,
  );
  if (query.length > 0) {
    const url = new URL(target, profile.apiUrl ?? profile.lookerUrl);
    for (const [key, value] of query) url.searchParams.append(key, value);
    target = url.href;
  }
  const headers = new Headers({ accept: "application/json" });
  if (body !== undefined) headers.set("content-type", "application/json");
  for (const [key, value] of extraHeaders) headers.set(key, value);
  const init: RequestInit = {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  };
  const requestUrl = tokenRequestUrl(
    target,
    apiBase,
    connection.server.allowInsecureHttp,
  );
  // Loaded once: a token file that is not valid warns once and reads as
  // signed out, as in the session.
  const tokens = await connection.store.load();
  if (!tokens) throw signedOut();
  let response: Response;
  if (tokens.expiresAt - io.now() > DEFAULT_REFRESH_MARGIN_MS) {
    response = await sendWithToken(
      requestUrl,
      init,
      tokens.accessToken,
      connection.fetch,
    );
    if (response.status === 401) {
      // As the session's fetch does: refresh once (unless another process
      // already did), retry once.
      await response.body?.cancel();
      const { sessionOf } = await import("./_session.ts");
      const next = await sessionOf(connection, io).refresh(tokens.accessToken);
      response = await sendWithToken(
        requestUrl,
        init,
        next.accessToken,
        connection.fetch,
      );
    }
  } else {
    const { sessionOf } = await import("./_session.ts");
    response = await sessionOf(connection, io).fetch(target, init);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (options.include) {
    const lines = [`HTTP ${response.status} ${response.statusText}`.trimEnd()];
    response.headers.forEach((value, key) => lines.push(`${key}: ${value}`));
    io.out(`${lines.join("\n")}\n\n`);
  }
  const type = response.headers.get("content-type") ?? "";
  if (/json/i.test(type)) {
    const text = new TextDecoder().decode(bytes);
    let shown = text;
    if (io.stdoutIsTty) {
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // print as received
      }
    }
    if (shown) io.out(shown.endsWith("\n") ? shown : `${shown}\n`);
  } else if (bytes.length > 0) {
    io.outBytes(bytes);
  }
  if (response.ok) return EXIT.ok;
  let message = "";
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed?.message === "string") message = ` ${parsed.message}`;
  } catch {
    // not JSON
  }
  const url = new URL(response.url || target, profile.apiUrl);
  // Looker's message comes from the server: no control characters.
  io.err(
    shown(
      `looker-oauth: ${method} ${url.pathname} failed: ${response.status}${message}`,
    ),
  );
  if (response.status === 401) {
    io.err(
      "hint: the token was refused even after a refresh; sign in again: looker-oauth login",
    );
  }
  if (response.status === 404) {
    io.err("hint: check the path; /user means /api/4.0/user");
  }
  if (response.status === 403) {
    io.err("hint: your user lacks the permission for this call");
  }
  return EXIT.failure;
}

async function readBody(data: string, io: Io): Promise<string> {
  let text: string;
  if (data === "-" || data.startsWith("@")) {
    const from = data === "-" ? "stdin" : data.slice(1);
    let bytes: Uint8Array;
    try {
      bytes = data === "-"
        ? new Uint8Array(await new Response(io.stdin()).arrayBuffer())
        : await Deno.readFile(from);
    } catch (err) {
      throw new UsageError(
        `cannot read ${from}: ${err instanceof Error ? err.message : err}`,
        "api",
      );
    }
    // A lenient decoder would turn bytes that are not UTF-8 into U+FFFD and
    // send a body other than the one given.
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new UsageError(
        `--data from ${from} is not UTF-8: the body must be UTF-8 JSON`,
        "api",
      );
    }
  } else {
    text = data;
  }
  try {
    JSON.parse(text);
  } catch {
    throw new UsageError(
      `--data is not valid JSON${
        data.startsWith("@") ? ` (${data.slice(1)})` : ""
      }`,
      "api",
    );
  }
  return text;
}

/** `-q key=value`: the key may not be empty; the value may. */
function parseQuery(text: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq < 1) {
    throw new UsageError(
      `-q takes key=value (e.g. -q fields=id,email), not ${
        JSON.stringify(text)
      }`,
      "api",
    );
  }
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** `-H 'Name: value'`: an RFC 9110 token name and a one-line value. */
function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon < 0 ? "" : text.slice(0, colon).trim();
  const value = colon < 0 ? "" : text.slice(colon + 1).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
    throw new UsageError(
      `-H takes 'Name: value' (e.g. -H 'Accept: text/csv'), not ${
        JSON.stringify(text)
      }`,
      "api",
    );
  }
  if (name.toLowerCase() === "authorization") {
    throw new UsageError(
      "-H Authorization cannot be set: the session sends its own token",
      "api",
    );
  }
  return [name, value];
}
