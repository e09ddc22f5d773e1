// `looker-oauth login`: sign in through the browser, keep the tokens.
import { discover, lookerServer } from "../core/server.ts";
import type { AuthServer } from "../core/server.ts";
import { TokenSession } from "../core/session.ts";
import { decodeBase64Url } from "../core/base64url.ts";
import { MemoryTokenStore, type TokenStore } from "../core/store.ts";
import type { TokenSet } from "../core/token.ts";
import { LoginError } from "../loopback/errors.ts";
import { openBrowser } from "../loopback/browser.ts";
import { loginWithBrowser } from "../loopback/login.ts";
import { currentLookerUser } from "../looker/api.ts";
import { resolveLookerHosts } from "../looker/versions.ts";
import { caFileFetch } from "../store/ca_file.ts";
import { FileTokenStore } from "../store/file_store.ts";
import { checkConfigWritable, profileBinding } from "../store/profiles.ts";
import { stateHome } from "../store/home.ts";
import { parseArgs, str, UsageError } from "./_args.ts";
import {
  envSettings,
  isFalse,
  type Profile,
  profileSettings,
  type ProfileUser,
  readConfig,
  readLookerIni,
  resolvePath,
  resolveSettings,
  saveProfile,
  type Settings,
} from "./_config.ts";
import { CliError, EXIT, UNTRUSTED_CERTIFICATE_HINT } from "./_errors.ts";
import { shown } from "./_text.ts";
import { profileName, tokenStore } from "./_profile.ts";
import { type Env, type Io, lines } from "./_io.ts";
import { parseTimeout, serverFetch } from "./_session.ts";

export const HELP = `Usage: looker-oauth login [flags]

Signs in through the browser: listens on the redirect URI's loopback port,
opens the server's sign-in page, receives the code, exchanges it, and keeps
the tokens (0600, in $LOOKER_OAUTH_HOME or ~/.config/looker-oauth).

Looker:
  --looker-url URL     the Looker UI URL, e.g. https://example.looker.com
  --api-url URL        the API URL when it differs, e.g. https://example.looker.com:19999
                       (with only one of the two, the other is read from /api/versions)
Any OpenID Connect / OAuth 2.0 server:
  --issuer URL         the issuer; its endpoints are discovered

  --client-id ID       the client id (Looker: the client_guid registered with
                       'looker-oauth register' or register_oauth_client_app)
  --redirect-uri URI   exactly as registered. Default for Looker:
                       http://localhost:8080/callback; for others
                       http://127.0.0.1/callback on any free port (a server
                       that matches the port too needs a fixed one,
                       registered for the client)
  --scope S            default: cors_api (Looker); openid offline_access (others)
  --profile NAME       where to keep this sign-in (default: "default")
  --no-browser         print the URL instead of opening a browser, and accept
                       the address the browser lands on pasted here (for a
                       browser on another machine)
  --timeout SEC        how long to wait for the browser (default 300, at most
                       86400)
  --ca-file PEM        trust this CA certificate (PEM) for this instance, as
                       for an on-premises Looker with a company CA; saved in
                       the profile, so token, api and logout use it too
  --insecure-http      allow http:// to hosts that are not this machine
  --ini FILE           the looker.ini to read (default: $LOOKER_OAUTH_INI,
                       $LOOKERSDK_INI, else ./looker.ini if there is one)
  --section NAME       its section (default: [Looker], else the first one)

Settings come from flags, then LOOKER_OAUTH_* variables (LOOKER_OAUTH_LOOKER_URL,
_API_URL, _ISSUER, _CLIENT_ID, _REDIRECT_URI, _SCOPE, _CA_FILE, _PROFILE), then
LOOKERSDK_BASE_URL, then looker.ini (base_url, looker_url, client_id,
redirect_uri, ca_file: a relative path is relative to the ini file), then the
profile saved by the last login. Certificate checks are never turned off:
verify_ssl=false (looker.ini or LOOKERSDK_VERIFY_SSL) gets a warning pointing
to --ca-file. LOOKERSDK_TIMEOUT (else looker.ini's timeout), in seconds,
bounds API calls and is saved in the profile. --debug shows where each
setting came from. The browser is
$BROWSER if set, else the system's.

Examples:
  looker-oauth login --looker-url https://example.looker.com --client-id my-cli
  looker-oauth login --issuer https://accounts.example.com --client-id my-cli

Exit codes: 0 signed in; 1 the sign-in failed (refused, timed out, or the
server could not be reached); 2 usage; 130 interrupted (Ctrl-C).`;

/** The longest --timeout: a day. */
const MAX_TIMEOUT_SEC = 86_400;

const SPEC = {
  string: [
    "looker-url",
    "api-url",
    "issuer",
    "client-id",
    "redirect-uri",
    "scope",
    "profile",
    "timeout",
    "ca-file",
    "ini",
    "section",
  ],
  boolean: ["browser", "insecure-http"],
} as const;

/** What `login` was asked: its flags, before any file is read. */
export interface LoginOptions {
  /** `--profile`, if given. */
  readonly profile: string | undefined;
  /** The settings given as flags (the highest layer). */
  readonly flags: Readonly<Settings>;
  /** `--ini FILE`. */
  readonly ini: string | undefined;
  /** `--section NAME`. */
  readonly section: string | undefined;
  /** `--timeout`, in seconds (300 by default). */
  readonly timeoutSec: number;
  /** `--insecure-http`. */
  readonly insecure: boolean;
  /** `--no-browser`: print the URL and read the pasted address. */
  readonly noBrowser: boolean;
}

/** Reads `login`'s flags. */
export function parseLogin(argv: string[], _env: Env): LoginOptions {
  const args = parseArgs(argv, SPEC, "login");
  const flags: Settings = {};
  for (
    const [flag, key] of [
      ["looker-url", "lookerUrl"],
      ["api-url", "apiUrl"],
      ["issuer", "issuer"],
      ["client-id", "clientId"],
      ["redirect-uri", "redirectUri"],
      ["scope", "scope"],
      ["ca-file", "caFile"],
    ] as const
  ) {
    const value = str(args, flag);
    if (value !== undefined) flags[key] = value;
  }
  const timeoutText = str(args, "timeout");
  const timeoutSec = timeoutText === undefined ? 300 : Number(timeoutText);
  if (
    timeoutText?.trim() === "" || !Number.isFinite(timeoutSec) ||
    timeoutSec <= 0 || timeoutSec > MAX_TIMEOUT_SEC
  ) {
    throw new UsageError(
      `--timeout takes a number of seconds above 0 and at most ${MAX_TIMEOUT_SEC} (24 h), not ${
        JSON.stringify(timeoutText)
      }`,
      "login",
    );
  }
  return {
    profile: str(args, "profile"),
    flags,
    ini: str(args, "ini"),
    section: str(args, "section"),
    timeoutSec,
    insecure: args.flags["insecure-http"] === true,
    noBrowser: args.flags.browser === false,
  };
}

/** Signs in with the settings the flags and every other layer give. */
export async function runLogin(
  options: LoginOptions,
  io: Io,
): Promise<number> {
  await login(await loginRequest(options, io), io);
  return EXIT.ok;
}

/**
 * Resolves the settings, highest first: flags > LOOKER_OAUTH_* >
 * LOOKERSDK_* > looker.ini > the profile saved by the last sign-in.
 */
async function loginRequest(
  options: LoginOptions,
  io: Io,
): Promise<LoginRequest> {
  const env = io.env;
  const home = stateHome(env);
  const profile = profileName(options.profile, env);
  const config = await readConfig(home, io.err);
  const saved = config.profiles[profile];
  const ini = await readLookerIni(env, {
    cwd: io.cwd(),
    ...(options.ini === undefined ? {} : { file: options.ini }),
    ...(options.section === undefined ? {} : { section: options.section }),
  });
  const { own, sdk } = envSettings(env);
  const flags: Settings = { ...options.flags };
  const {
    path: iniPath,
    name: iniName,
    verifySslOff,
    timeout: iniTimeout,
    ...iniSettings
  } = ini;
  // How long an API call may take: saved in the profile for later commands.
  const sdkTimeout = env("LOOKERSDK_TIMEOUT");
  const apiTimeoutSec = sdkTimeout
    ? parseTimeout(sdkTimeout, "LOOKERSDK_TIMEOUT")
    : iniTimeout
    ? parseTimeout(iniTimeout, `timeout in ${iniPath}`)
    : undefined;
  // Flags and variables name files relative to the working directory.
  if (flags.caFile) flags.caFile = resolvePath(flags.caFile, io.cwd());
  if (own.caFile) own.caFile = resolvePath(own.caFile, io.cwd());
  const resolved = resolveSettings([
    { name: "flags", settings: flags },
    { name: "LOOKER_OAUTH_* variables", settings: own },
    { name: "LOOKERSDK_BASE_URL", settings: sdk },
    {
      name: iniPath
        ? `${iniPath}${iniName ? ` [${iniName}]` : ""}`
        : "looker.ini",
      settings: iniSettings,
    },
    {
      name: `profile "${profile}"`,
      settings: profileSettings(saved),
      remembered: true,
    },
  ]);
  const { settings } = resolved;
  if (!resolved.kind) {
    throw new UsageError(
      "no server to sign in to: pass --looker-url URL (Looker) or --issuer URL (any OpenID Connect server)",
      "login",
    );
  }
  if (!settings.clientId) {
    throw new UsageError(
      resolved.kind === "looker"
        ? "no client id: pass --client-id with the client_guid the app was registered with (see 'looker-oauth register --help')"
        : "no client id: pass --client-id with the client registered on the server",
      "login",
    );
  }
  if (
    resolved.kind === "looker" && settings.redirectUri !== undefined &&
    /^http:\/\/[^/?#]*:0+(?:[/?#]|$)/i.test(settings.redirectUri)
  ) {
    throw new UsageError(
      `the redirect URI ${settings.redirectUri} has port 0, but Looker sends the browser back only to the registered redirect URI, port included: pass that one with --redirect-uri`,
      "login",
    );
  }
  for (const [key, from] of Object.entries(resolved.from)) {
    io.debug(`${key} from ${from}`);
  }
  const verifyOff = isFalse(env("LOOKERSDK_VERIFY_SSL"))
    ? "LOOKERSDK_VERIFY_SSL"
    : verifySslOff
    ? `verify_ssl in ${iniPath}`
    : undefined;
  if (verifyOff && !settings.caFile) {
    io.err(
      `looker-oauth: ${verifyOff} asks to skip certificate checks; looker-oauth keeps them on.`,
    );
    io.err(`hint: ${UNTRUSTED_CERTIFICATE_HINT}`);
  }

  return {
    home,
    profile,
    kind: resolved.kind,
    settings: { ...settings, clientId: settings.clientId },
    insecure: options.insecure,
    timeoutSec: options.timeoutSec,
    noBrowser: options.noBrowser,
    ...(settings.caFile ? { caFile: settings.caFile } : {}),
    ...(apiTimeoutSec === undefined ? {} : { apiTimeoutSec }),
  };
}

/** A resolved login request. */
export interface LoginRequest {
  home: string;
  profile: string;
  kind: "looker" | "oauth";
  settings: Settings & { clientId: string };
  insecure: boolean;
  timeoutSec: number;
  noBrowser: boolean;
  /** Replaces the browser (the demo's scripted person). */
  open?: (url: URL) => void | Promise<void>;
  /** Print the "Try: ..." line at the end. Default `true`. */
  nextStepHint?: boolean;
  /** A PEM file of CA certificates trusted for this instance (absolute). */
  caFile?: string;
  /** Seconds an API call may take (LOOKERSDK_TIMEOUT, looker.ini). */
  apiTimeoutSec?: number;
}

/** What a login produced. */
export interface LoginResult {
  server: AuthServer;
  record: Profile;
  store: FileTokenStore;
  user: ProfileUser | undefined;
}

/** Logs in: the server, the browser, the saved profile and tokens, who it is. */
export async function login(
  request: LoginRequest,
  io: Io,
): Promise<LoginResult> {
  // Before anyone signs in: the tokens and the profile must be savable
  // (a read-only or full disk, a symlinked token file, a folder that is not
  // ours all fail here, not after the browser).
  await checkConfigWritable(request.home);
  await tokenStore(io, request.home, request.profile).checkWritable();
  // A private CA, for this instance's requests only.
  const base = request.caFile ? await caFileFetch(request.caFile) : undefined;
  const http = {
    fetch: serverFetch(io, {
      ...(base ? { base } : {}),
      ...(request.apiTimeoutSec === undefined
        ? {}
        : { timeoutSec: request.apiTimeoutSec }),
    }),
  };
  const server = await resolveServer(request, http);
  const flow = await browserLogin(request, server, http, io);
  const result = await saveLogin(request, server, flow, http.fetch, io);
  sayWhoSignedIn(request, result, io);
  return result;
}

/** The server a request names: Looker's two hosts, or OIDC discovery. */
async function resolveServer(
  request: LoginRequest,
  http: { fetch: typeof fetch },
): Promise<AuthServer> {
  const { settings, insecure } = request;
  if (request.kind === "looker") {
    const hosts = await resolveLookerHosts({
      ...(settings.lookerUrl ? { lookerUrl: settings.lookerUrl } : {}),
      ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
    }, http);
    return lookerServer({ ...hosts, allowInsecureHttp: insecure });
  }
  return await discover(settings.issuer!, {
    ...http,
    allowInsecureHttp: insecure,
  });
}

/** The redirect URI and scope a request uses (each server kind's defaults). */
function redirectAndScope(
  request: LoginRequest,
): { redirectUri: string; scope: string | undefined } {
  const looker = request.kind === "looker";
  return {
    redirectUri: request.settings.redirectUri ??
      (looker ? "http://localhost:8080/callback" : "http://127.0.0.1/callback"),
    scope: request.settings.scope ??
      (looker ? undefined : "openid offline_access"),
  };
}

/** The browser part: loopback receiver, browser or pasted URL, exchange. */
async function browserLogin(
  request: LoginRequest,
  server: AuthServer,
  http: { fetch: typeof fetch },
  io: Io,
): Promise<{ tokens: TokenSet; redirectUri: string }> {
  const { settings, noBrowser, timeoutSec } = request;
  const { redirectUri, scope } = redirectAndScope(request);
  const where = server.looker?.lookerUrl ?? server.metadata.issuer;
  try {
    using interrupt = io.interrupt();
    const open = request.open ?? io.browser ?? ((url: URL) => {
      openBrowser(url, {
        browser: io.env("BROWSER"),
        onFailure: (message) =>
          io.err(`${message}; open the URL above yourself.`),
      });
    });
    const result = await loginWithBrowser({
      ...http,
      server,
      clientId: settings.clientId,
      redirectUri,
      ...(scope === undefined ? {} : { scope }),
      ...(scope?.split(" ").includes("offline_access")
        ? { extraParams: { prompt: "consent" } }
        : {}),
      callbackTimeout: timeoutSec * 1000,
      // About 20 s in, or halfway through a shorter --timeout.
      hintAfter: Math.min(20_000, timeoutSec * 500),
      onStillWaiting: ({ redirectUri }) =>
        io.err(
          `Still no answer from the browser.\nhint: ${
            fixedPortHint(redirectUri)
          }`,
        ),
      signal: interrupt.signal,
      ...(noBrowser
        ? { open: false as const, pasted: lines(io.stdin()) }
        : { open }),
      onUrl: (url) => {
        if (request.open) {
          io.err(`Sign-in URL:\n\n  ${url.href}\n`);
        } else if (noBrowser) {
          io.err(
            `Open this URL in a browser, on any machine, to sign in to ${where}:`,
          );
          io.err(`\n  ${url.href}\n`);
          io.err(
            "Then paste here the address the browser shows after you approve (or finish in this machine's browser).",
          );
        } else {
          io.err(
            `Opening the browser to sign in to ${where}. If it does not open, visit:`,
          );
          io.err(`\n  ${url.href}\n`);
          io.err(`Waiting for the browser (Ctrl-C to cancel)…`);
        }
      },
      onPasteRejected: (err) =>
        io.err(
          `${err.message}. Paste the full address the browser shows after you approve.`,
        ),
    });
    return result;
  } catch (err) {
    // The library's hint for a picked port, in the CLI's own flag.
    if (
      err instanceof LoginError && err.code === "timeout" &&
      err.redirectUri !== undefined && err.redirectUri !== redirectUri
    ) {
      throw new CliError(err.message, {
        hint: fixedPortHint(err.redirectUri),
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Saves the profile and the tokens; the server says meanwhile who signed in.
 */
async function saveLogin(
  request: LoginRequest,
  server: AuthServer,
  flow: { tokens: TokenSet; redirectUri: string },
  fetch: typeof globalThis.fetch,
  io: Io,
): Promise<LoginResult> {
  const { home, profile, settings, insecure } = request;
  const looker = request.kind === "looker";
  const { redirectUri, scope } = redirectAndScope(request);
  const { tokens, redirectUri: usedRedirectUri } = flow;
  const record: Profile = {
    kind: looker ? "looker" : "oauth",
    clientId: settings.clientId,
    // Looker must see the registered URI again on refresh; with a free port
    // chosen (RFC 8252) the configured one is what to reuse next time.
    redirectUri: looker ? usedRedirectUri : redirectUri,
    ...(scope === undefined ? {} : { scope }),
    ...(server.looker
      ? { lookerUrl: server.looker.lookerUrl, apiUrl: server.looker.apiUrl }
      : {
        issuer: server.metadata.issuer,
        metadata: server.metadata,
        ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      }),
    ...(insecure ? { insecureHttp: true } : {}),
    ...(request.caFile ? { caFile: request.caFile } : {}),
    ...(request.apiTimeoutSec === undefined
      ? {}
      : { timeout: request.apiTimeoutSec }),
    signedInAt: io.now(),
  };
  // The token file names the client and server it belongs to, so another
  // sign-in's profile is never used with these tokens (or the reverse).
  const binding = profileBinding(record);
  const store = tokenStore(io, home, profile).withBinding(binding);
  // The tokens are saved while the server says who signed in (over the
  // fresh tokens in memory); the profile, which names the user, is written
  // once that is known. A refresh during the lookup is saved after it.
  const savingTokens = store.withLock(() => store.save(tokens));
  savingTokens.catch(() => {}); // awaited below
  const fresh = new MemoryTokenStore(tokens);
  const user = await whoIsSignedIn(
    record,
    server,
    fresh,
    tokens,
    io,
    fetch,
  );
  const saved = user ? { ...record, user } : record;
  await savingTokens;
  const latest = (await fresh.load()) ?? tokens;
  // The profile and its tokens as one unit: under the profile's lock, the
  // profile is written and the token file made this sign-in's again if
  // another login of the same profile saved its own in between.
  const quiet = new FileTokenStore({ home, profile, binding });
  await store.withLock(async () => {
    await saveProfile(home, profile, saved);
    const onDisk = await quiet.load().catch(() => undefined);
    if (onDisk?.accessToken !== latest.accessToken) await store.save(latest);
  });
  return { server, record: saved, store, user };
}

/** The ✓ line, and the next command to try. */
function sayWhoSignedIn(
  request: LoginRequest,
  { server, store, user }: LoginResult,
  io: Io,
): void {
  const { profile } = request;
  const where = server.looker?.lookerUrl ?? server.metadata.issuer;
  // The name and e-mail come from the server: shown() keeps a hostile one
  // from rewriting the terminal.
  const who = user
    ? ` as ${shown(user.displayName ?? user.id ?? "?")}${
      user.email ? ` <${shown(user.email)}>` : ""
    }`
    : "";
  io.err(`✓ Signed in to ${where}${who}.`);
  if (request.nextStepHint !== false) {
    io.err(
      `Tokens saved for profile "${profile}" in ${store.path}. Try: looker-oauth ${
        request.kind === "looker" ? "api /user" : "token"
      }${profile === "default" ? "" : ` --profile ${profile}`}`,
    );
  }
}

/** What to do when a server may not accept a picked loopback port. */
function fixedPortHint(picked: string): string {
  return `if the browser shows an error from the server (such as a redirect_uri that does not match), the server may not accept any loopback port: register a fixed one for the client, e.g. ${picked}, and pass --redirect-uri ${picked}`;
}

async function whoIsSignedIn(
  profile: Profile,
  server: AuthServer,
  store: TokenStore,
  tokens: TokenSet,
  io: Io,
  fetch: typeof globalThis.fetch,
): Promise<ProfileUser | undefined> {
  if (profile.kind === "looker") {
    try {
      const session = new TokenSession({
        server,
        clientId: profile.clientId,
        redirectUri: profile.redirectUri,
        store,
        fetch,
      });
      const me = await currentLookerUser(session);
      return {
        id: String(me.id),
        ...(me.display_name ? { displayName: me.display_name } : {}),
        ...(me.email ? { email: me.email } : {}),
      };
    } catch (err) {
      io.err(
        `Signed in, but reading the user failed: ${
          shown(err instanceof Error ? err.message : String(err))
        }`,
      );
      return undefined;
    }
  }
  // For display only: the ID token was validated at the exchange.
  const payload = tokens.idToken?.split(".")[1];
  if (!payload) return undefined;
  const bytes = decodeBase64Url(payload);
  if (!bytes) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return {
      ...(typeof claims.sub === "string" ? { id: claims.sub } : {}),
      ...(typeof claims.name === "string" ? { displayName: claims.name } : {}),
      ...(typeof claims.email === "string" ? { email: claims.email } : {}),
    };
  } catch {
    return undefined;
  }
}
