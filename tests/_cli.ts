// Helpers for the CLI's tests: `main(argv, io)` in-process with a scripted Io
// and person (tests/_io.ts), or `cli.ts` as a subprocess with the compiled
// executable's permissions for what only a process shows; each in a fresh
// state folder and a clean environment, against servers started by the test.
import assert from "node:assert/strict";
import { UsageError } from "../src/cli/_args.ts";
import type { Env } from "../src/cli/_io.ts";
import { main } from "../src/cli/main.ts";
import { compilePermissions } from "../.ci/release.ts";
import {
  type LookerEmulator,
  type LookerEmulatorOptions,
  type OAuthClientApp,
  startLookerEmulator,
} from "../src/emulator/looker_emulator.ts";
import {
  type Person,
  scriptedPerson,
  type TestIo,
  testIo,
  Text,
  type Visit,
} from "./_io.ts";
import { freePort } from "./_ports.ts";

const ROOT = new URL("../", import.meta.url);

/** The repository root, as a path. */
export const ROOT_DIR: string = decodeURIComponent(ROOT.pathname).replace(
  /\/$/,
  "",
);

/** deno.json, parsed. */
export const DENO_JSON: {
  version: string;
  tasks: Record<string, string>;
} = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));

/**
 * The `--allow-*` flags of `deno task compile`: the tests run `cli.ts` with
 * exactly the permissions the compiled executable gets.
 */
export const PERMISSIONS: readonly string[] = await compilePermissions();

/**
 * `$BROWSER` for a CLI subprocess: tests/_browser.ts signs in as the
 * scripted person and approves.
 */
export const SCRIPTED_BROWSER: string = [
  Deno.execPath(),
  "run",
  "--allow-net",
  `${ROOT_DIR}/tests/_browser.ts`,
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
  /** Written to stdin, which is then closed. Default: empty. */
  stdin?: string;
  /** The working directory. Default: the home's parent folder. */
  cwd?: string;
  /** In-process only: the person at the browser. */
  person?: Person;
  /**
   * Subprocess only: --allow-read narrowed to the state folder and the
   * working directory, --allow-write to the state folder.
   */
  narrow?: boolean;
}

/**
 * Runs `looker-oauth ...args` in this process: `main(args, io)` with a
 * scripted Io; waits for the person's page visits to finish too.
 */
export async function cli(
  args: readonly string[],
  options: CliOptions,
): Promise<CliResult> {
  const io = testIo({
    env: { LOOKER_OAUTH_HOME: options.home, NO_COLOR: "1", ...options.env },
    cwd: options.cwd ?? parentOf(options.home),
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    ...(options.person ? { browser: options.person.browser } : {}),
  });
  const failed = endOnFailedVisit(options.person, io);
  const code = await main([...args], io);
  await options.person?.settled();
  failed.check(code, io.stderr.text);
  return { code, signal: null, stdout: io.stdout.text, stderr: io.stderr.text };
}

/**
 * A scripted person whose page visit fails never reaches the receiver: the
 * run would wait for its sign-in timeout (minutes). Presses Ctrl-C at once
 * instead, and `check()` then fails the test with the visit's error.
 */
function endOnFailedVisit(
  person: Person | undefined,
  io: TestIo,
): { check(code: number, stderr: string): void } {
  let failed: Visit | undefined;
  person?.onFailure((visit) => {
    failed ??= visit;
    io.pressCtrlC();
  });
  return {
    check: (code, stderr) => {
      if (failed === undefined) return;
      throw new Error(
        `the scripted person's page visit failed (${failed.error}; last page ${
          failed.path ?? "none"
        }, callback ${
          JSON.stringify(failed.callback ?? null)
        }); the CLI exited ${code}:\n${stderr}`,
      );
    },
  };
}

/** `looker-oauth` running in this process, with stdin to write to. */
export interface CliRun extends AsyncDisposable {
  readonly stdout: Text;
  readonly stderr: Text;
  write(text: string): Promise<void>;
  closeStdin(): Promise<void>;
  /** Presses Ctrl-C; `false` when nothing watched it. */
  pressCtrlC(): boolean;
  /** Waits for the exit code and everything it wrote. */
  result(): Promise<CliResult>;
}

/** Starts `main(args, io)` in this process with a piped stdin. */
export function startCli(
  args: readonly string[],
  options: Omit<CliOptions, "stdin">,
): CliRun {
  const io = testIo({
    env: { LOOKER_OAUTH_HOME: options.home, NO_COLOR: "1", ...options.env },
    cwd: options.cwd ?? parentOf(options.home),
    stdin: "piped",
    ...(options.person ? { browser: options.person.browser } : {}),
  });
  const failed = endOnFailedVisit(options.person, io);
  const done = main([...args], io).finally(() => {
    io.stdout.close();
    io.stderr.close();
  });
  const result = async (): Promise<CliResult> => {
    const code = await done;
    await io.closeStdin();
    await options.person?.settled();
    failed.check(code, io.stderr.text);
    return {
      code,
      signal: null,
      stdout: io.stdout.text,
      stderr: io.stderr.text,
    };
  };
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    write: io.write,
    closeStdin: io.closeStdin,
    pressCtrlC: io.pressCtrlC,
    result,
    [Symbol.asyncDispose]: async () => {
      io.pressCtrlC();
      await result();
    },
  };
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
  options: Pick<CliOptions, "home" | "env" | "cwd" | "narrow">,
  stdin: "piped" | "null",
): Deno.Command {
  const cwd = options.cwd ?? parentOf(options.home);
  const permissions = options.narrow
    ? PERMISSIONS.map((flag) =>
      flag === "--allow-read"
        ? `--allow-read=${options.home},${cwd}`
        : flag === "--allow-write"
        ? `--allow-write=${options.home}`
        : flag
    )
    : PERMISSIONS;
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--config=${ROOT_DIR}/deno.json`,
      ...permissions,
      `${ROOT_DIR}/cli.ts`,
      ...args,
    ],
    cwd,
    clearEnv: true,
    env: cleanEnv(options.home, options.env),
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `looker-oauth ...args` as a subprocess, to completion. */
export async function runCli(
  args: readonly string[],
  options: CliOptions,
): Promise<CliResult> {
  await using cli = spawnCli(args, {
    ...options,
    stdin: options.stdin !== undefined,
  });
  if (options.stdin !== undefined) {
    await cli.write(options.stdin);
    await cli.closeStdin();
  }
  return await cli.result();
}

/** A CLI process running in the background. */
export interface CliProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stdout: Text;
  readonly stderr: Text;
  /** Writes text to stdin (when spawned with `stdin: true`). */
  write(text: string): Promise<void>;
  /** Closes stdin. */
  closeStdin(): Promise<void>;
  /** Waits for the exit and everything it wrote. */
  result(): Promise<CliResult>;
}

function collect(
  stream: ReadableStream<Uint8Array>,
  into: Text,
): Promise<void> {
  return (async () => {
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        into.write(chunk);
      }
    } finally {
      into.close();
    }
  })();
}

/** Starts `looker-oauth ...args`; `await using` kills it if still running. */
export function spawnCli(
  args: readonly string[],
  options: Omit<CliOptions, "stdin" | "person"> & { stdin?: boolean },
): CliProcess {
  const child = command(args, options, options.stdin ? "piped" : "null")
    .spawn();
  const stdout = new Text();
  const stderr = new Text();
  const done = Promise.all([
    collect(child.stdout, stdout),
    collect(child.stderr, stderr),
  ]);
  const writer = options.stdin ? child.stdin.getWriter() : undefined;
  let stdinClosed = false;
  const closeStdin = async () => {
    if (writer && !stdinClosed) {
      stdinClosed = true;
      await writer.close().catch(() => {});
    }
  };
  const result = async (): Promise<CliResult> => {
    const [status] = await Promise.all([child.status, done]);
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
 * Signs in to the emulator in-process with the scripted person; asserts
 * success.
 *
 * @returns The run's output and the token file's content.
 */
export async function signIn(
  t: TempHome,
  looker: LookerSetup,
  options: { args?: readonly string[]; env?: Record<string, string> } = {},
): Promise<CliResult & { file: TokenFile }> {
  const result = await cli(
    ["login", ...looker.loginArgs, ...(options.args ?? [])],
    { home: t.home, person: scriptedPerson(), ...options },
  );
  if (result.code !== 0) {
    throw new Error(
      `login failed (${result.code}):\n${result.stderr}\n${result.stdout}`,
    );
  }
  return { ...result, file: await readTokenFile(t.tokenFile()) };
}

/**
 * Asserts a command's `parseX(argv, env)` over a table: each row's argv
 * gives exactly those options, or a `UsageError` for that command whose
 * message matches the pattern.
 */
export function assertParses<Options>(
  parse: (argv: string[], env: Env) => Options,
  command: string,
  table: readonly (readonly [string[], Options | RegExp])[],
  env: Record<string, string> = {},
): void {
  for (const [argv, expected] of table) {
    const what = `${command} ${argv.join(" ")}`;
    if (expected instanceof RegExp) {
      assert.throws(
        () => parse(argv, (name) => env[name]),
        (err: unknown) =>
          err instanceof UsageError && err.command === command &&
          expected.test(err.message),
        what,
      );
    } else {
      assert.deepEqual(parse(argv, (name) => env[name]), expected, what);
    }
  }
}
