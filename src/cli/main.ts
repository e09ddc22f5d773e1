/**
 * The `looker-oauth` command line: dispatches to one module per command.
 *
 * `token` is imported statically; every other command by a string-literal
 * `import()`, evaluated only when that command runs. Every specifier is
 * literal, so `deno publish`, `deno compile` and a narrowed `--allow-read`
 * see the whole CLI: Deno reads the whole graph before it runs, and only
 * the evaluation is left for later.
 *
 * @module
 */
import { EXIT, report } from "./_errors.ts";
import { type Env, type Io, processIo, withDebug } from "./_io.ts";
import * as token from "./token.ts";

/**
 * A command: its flags parsed into options (pure: usage errors only), then
 * run against the process.
 */
export interface CommandModule<Options = unknown> {
  /** The command's `--help` text. */
  readonly HELP: string;
  /** Reads the arguments after the command's name; throws `UsageError`. */
  parse(argv: string[], env: Env): Options;
  /** Acts on the options; returns the exit code. */
  run(options: Options, io: Io): Promise<number>;
}

/** The version `--version` prints; a test keeps it equal to deno.json's. */
export { VERSION } from "./_version.ts";
import { VERSION } from "./_version.ts";

/** A command module. */
export interface Command {
  /** One line for the overview. */
  readonly summary: string;
  /** Loads the handler. */
  // deno-lint-ignore no-explicit-any
  load(): Promise<CommandModule<any>>;
}

/** Every command, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  login: {
    summary: "sign in through the browser and keep the tokens",
    load: () =>
      import("./login.ts").then((m) => ({
        HELP: m.HELP,
        parse: m.parseLogin,
        run: m.runLogin,
      })),
  },
  token: {
    summary: "print a valid access token (refreshed if needed)",
    load: () =>
      Promise.resolve({
        HELP: token.HELP,
        parse: token.parseToken,
        run: token.runToken,
      }),
  },
  api: {
    summary: "call the Looker API with the signed-in session",
    load: () =>
      import("./api.ts").then((m) => ({
        HELP: m.HELP,
        parse: m.parseApi,
        run: m.runApi,
      })),
  },
  status: {
    summary: "show who is signed in, where, and until when",
    load: () =>
      import("./status.ts").then((m) => ({
        HELP: m.HELP,
        parse: m.parseStatus,
        run: m.runStatus,
      })),
  },
  logout: {
    summary: "end the session on the server and forget the tokens",
    load: () =>
      import("./logout.ts").then((m) => ({
        HELP: m.HELP,
        parse: m.parseLogout,
        run: m.runLogout,
      })),
  },
  register: {
    summary: "register (or update) an OAuth client app with Looker",
    load: () =>
      import("./register.ts").then((m) => ({
        HELP: m.HELP,
        parse: m.parseRegister,
        run: m.runRegister,
      })),
  },
  demo: {
    summary: "the whole flow against a built-in Looker emulator",
    load: () =>
      import("./demo.ts").then((m) => ({
        HELP: m.HELP,
        parse: m.parseDemo,
        run: m.runDemo,
      })),
  },
};

/** The overview printed by `looker-oauth --help`. */
export function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `looker-oauth ${VERSION}: sign in to Looker (or any OAuth 2.0 / OpenID Connect server)
from the terminal, and give scripts a valid token.

Usage: looker-oauth <command> [flags]

Commands:
${
    Object.entries(COMMANDS).map(([name, c]) =>
      `  ${name.padEnd(width)}  ${c.summary}`
    ).join("\n")
  }

Flags for every command:
  -h, --help     show the command's help
  --debug        print requests and responses (never tokens) on stderr

  looker-oauth --version   print the version

Start with:   looker-oauth demo
Then:         looker-oauth login --looker-url https://your.looker.com --client-id YOUR_APP
Exit codes:   0 ok, 1 failure, 2 usage, 3 sign-in needed, 130 interrupted
`;
}

/**
 * Runs the CLI.
 *
 * @param argv The arguments after the program name.
 * @param io The process; the real one by default.
 * @returns The exit code.
 */
export async function main(argv: string[], io?: Io): Promise<number> {
  const debug = argv.slice(0, indexOrEnd(argv, "--")).includes("--debug");
  const rest = debug
    ? argv.filter((a, i) => !(a === "--debug" && i < indexOrEnd(argv, "--")))
    : argv;
  const base = io ?? processIo();
  const out = debug ? withDebug(base) : base;
  const [name, ...args] = rest;
  if (
    name === undefined || name === "--help" || name === "-h" || name === "help"
  ) {
    const topic = name === "help" ? args[0] : undefined;
    if (topic && COMMANDS[topic]) return await dispatch(topic, ["--help"], out);
    (name === undefined ? out.err : out.out)(overview().trimEnd());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    out.out(`looker-oauth ${VERSION}\n`);
    return EXIT.ok;
  }
  if (!COMMANDS[name]) {
    out.err(`looker-oauth: unknown command "${name}"`);
    const close = Object.keys(COMMANDS).find((c) =>
      c.startsWith(name.slice(0, 2))
    );
    out.err(
      close
        ? `Did you mean 'looker-oauth ${close}'? Run 'looker-oauth --help' for every command.`
        : "Run 'looker-oauth --help' for every command.",
    );
    return EXIT.usage;
  }
  return await dispatch(name, args, out);
}

async function dispatch(name: string, args: string[], io: Io): Promise<number> {
  try {
    const command = await COMMANDS[name]!.load();
    const options = args.slice(0, indexOrEnd(args, "--"));
    if (options.includes("--help") || options.includes("-h")) {
      io.out(`${command.HELP}\n`);
      return EXIT.ok;
    }
    return await command.run(command.parse(args, io.env), io);
  } catch (err) {
    return report(err, io, name);
  }
}

function indexOrEnd(list: readonly string[], item: string): number {
  const i = list.indexOf(item);
  return i === -1 ? list.length : i;
}
