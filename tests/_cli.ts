// Helpers for the CLI's end-to-end tests: run `cli.ts` as a subprocess with
// the compiled executable's permissions, in a fresh state folder and a clean
// environment, against servers started by the test.
import {
  type LookerEmulator,
  type LookerEmulatorOptions,
  type OAuthClientApp,
  startLookerEmulator,
} from "../src/emulator/looker_emulator.ts";
import { freePort } from "./_ports.ts";

const ROOT = new URL("../", import.meta.url);
const CONFIG = new URL("deno.json", ROOT);

/** The repository root, as a path. */
export const ROOT_DIR: string = decodeURIComponent(ROOT.pathname).replace(
  /\/$/,
  "",
);

/** deno.json, parsed. */
export const DENO_JSON: {
  version: string;
  tasks: Record<string, string>;
} = JSON.parse(await Deno.readTextFile(CONFIG));

/**
 * The `--allow-*` flags of `deno task compile`: the tests run `cli.ts` with
 * exactly the permissions the compiled executable gets.
 */
export const PERMISSIONS: readonly string[] = (DENO_JSON.tasks.compile ?? "")
  .split(/\s+/)
  .filter((word) => word.startsWith("--allow-"));
if (PERMISSIONS.length === 0) {
  throw new Error("deno.json's compile task names no --allow-* flag");
}

const CLI = `${ROOT_DIR}/cli.ts`;
const BROWSER_SCRIPT = `${ROOT_DIR}/tests/_browser.ts`;

/** `$BROWSER` for the scripted browser (tests/_browser.ts). */
export const SCRIPTED_BROWSER: string = [
  Deno.execPath(),
  "run",
  "--allow-net",
  "--allow-env",
  "--allow-write",
  BROWSER_SCRIPT,
].join(" ");

/** A fresh state folder; `await using` removes it. */
export interface TempHome extends AsyncDisposable {
  /** A private temp folder: the CLI's working directory. */
  readonly dir: string;
  /** `$LOOKER_OAUTH_HOME` (`<dir>/home`, created by the CLI itself). */
  readonly home: string;
  /** `<home>/tokens/<profile>.json`. */
  tokenFile(profile?: string): string;
}

/** Creates a fresh temp folder; `home` inside it does not exist yet. */
export async function tempHome(): Promise<TempHome> {
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-cli-test-" });
  const home = `${dir}/home`;
  return {
    dir,
    home,
    tokenFile: (profile = "default") => `${home}/tokens/${profile}.json`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** What a CLI run produced. */
export interface CliResult {
  readonly code: number;
  /** The signal that killed the process, `null` when it exited by itself. */
  readonly signal: Deno.Signal | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run the CLI. */
export interface CliOptions {
  /** `$LOOKER_OAUTH_HOME`. */
  home: string;
  /** Extra environment variables (on top of the clean environment). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. Default: no stdin. */
  stdin?: string;
  /** The working directory. Default: the home's parent folder. */
  cwd?: string;
}

/**
 * The child's environment: PATH, HOME and DENO_DIR (if set) from ours, the
 * state folder, and `env`. Nothing else: no LOOKER_OAUTH_*, LOOKERSDK_*,
 * BROWSER or DISPLAY leaks in from the machine running the tests.
 */
export function cleanEnv(
  home: string,
  env: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {
    LOOKER_OAUTH_HOME: home,
    NO_COLOR: "1",
  };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) out[name] = value;
  }
  return { ...out, ...env };
}

function command(
  args: readonly string[],
  options: Pick<CliOptions, "home" | "env" | "cwd">,
  stdin: "piped" | "null",
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--config=${ROOT_DIR}/deno.json`,
      ...PERMISSIONS,
      CLI,
      ...args,
    ],
    cwd: options.cwd ?? parentOf(options.home),
    clearEnv: true,
    env: cleanEnv(options.home, options.env),
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `looker-oauth ...args` to completion. */
export async function runCli(
  args: readonly string[],
  options: CliOptions,
): Promise<CliResult> {
  const child = command(
    args,
    options,
    options.stdin === undefined ? "null" : "piped",
  ).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, signal, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return {
    code,
    signal,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** A text stream being read in the background, with waits on its content. */
export class Collector {
  #text = "";
  #closed = false;
  #waiters = new Set<() => void>();
  /** Settles when the stream has ended. */
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      try {
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          this.#text += chunk;
          this.#wake();
        }
      } finally {
        this.#closed = true;
        this.#wake();
      }
    })();
  }

  /** Everything read so far. */
  get text(): string {
    return this.#text;
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /**
   * Waits until the text matches `pattern`, at most `timeoutMs`. Rejects when
   * the stream ends or the time runs out first.
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
          reject(
            new Error(`stream ended without ${pattern}:\n${this.#text}`),
          );
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

/** A CLI process running in the background. */
export interface CliProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stdout: Collector;
  readonly stderr: Collector;
  /** Writes text to stdin (when spawned with `stdin: true`). */
  write(text: string): Promise<void>;
  /** Closes stdin. */
  closeStdin(): Promise<void>;
  /** Waits for the exit and everything it wrote. */
  result(): Promise<CliResult>;
}

/** Starts `looker-oauth ...args`; `await using` kills it if still running. */
export function spawnCli(
  args: readonly string[],
  options: Omit<CliOptions, "stdin"> & { stdin?: boolean },
): CliProcess {
  const child = command(args, options, options.stdin ? "piped" : "null")
    .spawn();
  const stdout = new Collector(child.stdout);
  const stderr = new Collector(child.stderr);
  const writer = options.stdin ? child.stdin.getWriter() : undefined;
  let stdinClosed = false;
  const closeStdin = async () => {
    if (writer && !stdinClosed) {
      stdinClosed = true;
      await writer.close().catch(() => {});
    }
  };
  const result = async (): Promise<CliResult> => {
    const [status] = await Promise.all([
      child.status,
      stdout.done,
      stderr.done,
    ]);
    await closeStdin();
    return {
      code: status.code,
      signal: status.signal,
      stdout: stdout.text,
      stderr: stderr.text,
    };
  };
  return {
    child,
    stdout,
    stderr,
    write: async (text) => {
      if (!writer) throw new Error("spawned without stdin");
      await writer.write(new TextEncoder().encode(text));
    },
    closeStdin,
    result,
    [Symbol.asyncDispose]: async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await result();
    },
  };
}

/** An emulator with one registered app, and the flags to sign in to it. */
export interface LookerSetup extends AsyncDisposable {
  readonly emulator: LookerEmulator;
  readonly clientId: string;
  readonly port: number;
  readonly redirectUri: string;
  /** `--looker-url ... --api-url ... --client-id ... --redirect-uri ...` */
  readonly loginArgs: readonly string[];
}

/** Starts the Looker emulator with one app on `http://localhost:<port>/callback`. */
export async function startLooker(
  options: LookerEmulatorOptions & { clientId?: string; port?: number } = {},
): Promise<LookerSetup> {
  const { clientId = "looker-oauth-cli", port = freePort(), ...rest } = options;
  const redirectUri = `http://localhost:${port}/callback`;
  const app: OAuthClientApp = {
    client_guid: clientId,
    redirect_uri: redirectUri,
    display_name: "looker-oauth tests",
    description: "The CLI's end-to-end tests",
    enabled: true,
  };
  const emulator = await startLookerEmulator({
    ...rest,
    apps: [app, ...(rest.apps ?? [])],
  });
  return {
    emulator,
    clientId,
    port,
    redirectUri,
    loginArgs: [
      "--looker-url",
      emulator.lookerUrl,
      "--api-url",
      emulator.apiUrl,
      "--client-id",
      clientId,
      "--redirect-uri",
      redirectUri,
    ],
    [Symbol.asyncDispose]: () => emulator.close(),
  };
}

/** The environment for the scripted browser. */
export function browserEnv(
  options: {
    decision?: "approve" | "deny";
    mode?: "browse" | "noop";
    loopback?: "127.0.0.1" | "::1";
    log?: string;
    codeFile?: string;
    /** Callback parameters to change: a string sets, `null` removes. */
    tamper?: Record<string, string | null>;
    /** A CA certificate (PEM text) the browser trusts. */
    caPem?: string;
  } = {},
): Record<string, string> {
  return {
    BROWSER: SCRIPTED_BROWSER,
    SCRIPTED_BROWSER_DECISION: options.decision ?? "approve",
    SCRIPTED_BROWSER_MODE: options.mode ?? "browse",
    ...(options.loopback
      ? { SCRIPTED_BROWSER_LOOPBACK: options.loopback }
      : {}),
    ...(options.log ? { SCRIPTED_BROWSER_LOG: options.log } : {}),
    ...(options.codeFile
      ? { SCRIPTED_BROWSER_CODE_FILE: options.codeFile }
      : {}),
    ...(options.tamper
      ? { SCRIPTED_BROWSER_TAMPER: JSON.stringify(options.tamper) }
      : {}),
    ...(options.caPem ? { SCRIPTED_BROWSER_CA_PEM: options.caPem } : {}),
  };
}

/** The token file's content. */
export interface TokenFile {
  version: number;
  tokens: {
    accessToken: string;
    tokenType: string;
    expiresAt: number;
    refreshToken?: string;
    scope?: string;
    idToken?: string;
  };
}

/** Reads a token file. */
export async function readTokenFile(path: string): Promise<TokenFile> {
  return JSON.parse(await Deno.readTextFile(path));
}

/** Moves the stored access token's expiry into the past (keeps the file's mode). */
export async function expireTokenFile(path: string): Promise<TokenFile> {
  const file = await readTokenFile(path);
  file.tokens.expiresAt = Date.now() - 5_000;
  await Deno.writeTextFile(path, JSON.stringify(file, null, 2) + "\n");
  return file;
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** The permission bits of a path. */
export async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

/**
 * Polls `probe` until it returns a value other than `undefined`, at most
 * `timeoutMs` (for effects of processes the test did not start, such as the
 * scripted browser writing its log after the CLI exited).
 */
export async function poll<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads a file, `undefined` if it does not exist (yet). */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Lines of text, without the empty last one. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line, i, all) =>
    !(line === "" && i === all.length - 1)
  );
}

/** The `http(s)://...` URL the CLI printed on stderr for the person to open. */
export function urlIn(stderr: string): URL {
  const match = stderr.match(/^\s+(https?:\/\/\S+)$/m);
  if (!match) throw new Error(`no URL on stderr:\n${stderr}`);
  return new URL(match[1]!);
}

/** Whether a text holds a stack trace (`    at f (file:///x.ts:1:2)`). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+:\d+:\d+\)?$/m.test(text) ||
    /\bError: .*\n\s+at /.test(text);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash > 0 ? path.slice(0, slash) : "/";
}

/**
 * Signs in to the emulator with the scripted browser; asserts success.
 *
 * @returns The run's output and the token file's content.
 */
export async function signIn(
  t: TempHome,
  looker: LookerSetup,
  options: { args?: readonly string[]; env?: Record<string, string> } = {},
): Promise<CliResult & { file: TokenFile }> {
  const result = await runCli(
    ["login", ...looker.loginArgs, ...(options.args ?? [])],
    { home: t.home, env: { ...browserEnv(), ...options.env } },
  );
  if (result.code !== 0) {
    throw new Error(
      `login failed (${result.code}):\n${result.stderr}\n${result.stdout}`,
    );
  }
  return { ...result, file: await readTokenFile(t.tokenFile()) };
}
