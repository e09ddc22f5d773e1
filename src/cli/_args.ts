// Private: a small argument parser. The CLI avoids node:util so that the
// `token` fast path never starts Deno's Node layer (docs/architecture.md,
// "Keeping `token` fast").

/** A usage mistake: exit code 2. */
export class UsageError extends Error {
  /** The command whose help to suggest. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** What a command accepts. */
export interface ArgSpec {
  /** Flags that take a value, by long name. */
  string?: readonly string[];
  /** Flags that take no value, by long name. */
  boolean?: readonly string[];
  /** Short names: `{ X: "method" }`. */
  alias?: Readonly<Record<string, string>>;
  /** Most positionals accepted. Default 0. */
  maxPositionals?: number;
  /** String flags that may repeat: every value is kept, in order. */
  repeatable?: readonly string[];
}

/** Parsed arguments. */
export interface Args {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  /** The values of repeatable flags, in order. */
  readonly lists: Readonly<Record<string, readonly string[]>>;
}

/**
 * Parses `--name value`, `--name=value`, `-X value`, `--flag`, `--no-flag`
 * and `--`. Unknown flags, missing values and extra positionals are usage
 * errors that name the closest known flag.
 */
export function parseArgs(
  argv: readonly string[],
  spec: ArgSpec,
  command: string,
): Args {
  const strings = new Set(spec.string ?? []);
  const booleans = new Set([...(spec.boolean ?? []), "help"]);
  const alias: Record<string, string> = { h: "help", ...spec.alias };
  const flags: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const repeatable = new Set(spec.repeatable ?? []);
  const lists: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let value: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      value = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const short = arg.slice(1, 2);
      const long = alias[short];
      if (!long) throw unknown(arg, [...strings, ...booleans], command);
      name = long;
      value = arg.length > 2 ? arg.slice(2) : undefined;
    }
    if (booleans.has(name)) {
      if (value !== undefined) {
        throw new UsageError(`--${name} takes no value`, command);
      }
      flags[name] = true;
    } else if (name.startsWith("no-") && booleans.has(name.slice(3))) {
      flags[name.slice(3)] = false;
    } else if (strings.has(name)) {
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith("--") && next.length > 2)) {
          throw new UsageError(`--${name} needs a value`, command);
        }
        value = next;
        i++;
      }
      flags[name] = value;
      if (repeatable.has(name)) (lists[name] ??= []).push(value);
    } else {
      throw unknown(`--${name}`, [...strings, ...booleans], command);
    }
  }
  if (positionals.length > (spec.maxPositionals ?? 0) && !flags.help) {
    throw new UsageError(
      `unexpected argument: ${positionals[spec.maxPositionals ?? 0]}`,
      command,
    );
  }
  return { flags, positionals, lists };
}

function unknown(
  flag: string,
  known: readonly string[],
  command: string,
): UsageError {
  const bare = flag.replace(/^-+/, "");
  const close = known
    .map((name) => ({ name, d: distance(bare, name) }))
    .sort((a, b) => a.d - b.d)[0];
  const suggestion = close && close.d <= 3
    ? ` (did you mean --${close.name}?)`
    : "";
  return new UsageError(`unknown flag ${flag}${suggestion}`, command);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = current;
    }
  }
  return row[b.length]!;
}

/** Reads every value of a repeatable flag. */
export function list(args: Args, name: string): readonly string[] {
  return args.lists[name] ?? [];
}

/** Reads a string flag. */
export function str(args: Args, name: string): string | undefined {
  const value = args.flags[name];
  return typeof value === "string" ? value : undefined;
}
