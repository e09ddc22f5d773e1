// The benchmarks bench/run.ts runs, one function each. Every function returns
// the figures it measured and prints its own details as it goes.
import * as oauth4webapi from "oauth4webapi";
import { compilePermissions } from "../.ci/release.ts";
import { browse } from "../src/emulator/user_agent.ts";
import {
  type LookerEmulator,
  startLookerEmulator,
} from "../src/emulator/looker_emulator.ts";
import { lookerServer } from "../src/core/server.ts";
import { MemoryTokenStore, type TokenStore } from "../src/core/store.ts";
import { TokenSession } from "../src/core/session.ts";
import { exchangeCode, type TokenSet } from "../src/core/token.ts";
import { startAuthorization } from "../src/core/authorization.ts";
import { parseCallback } from "../src/core/callback.ts";
import { freeLoopbackPort } from "../src/loopback/free_port.ts";
import { FileTokenStore } from "../src/store/file_store.ts";
import {
  type Cmd,
  fmtMiB,
  fmtMs,
  fmtRatio,
  interleave,
  peakRss,
  type RssMethod,
  runOnce,
  say,
  summarize,
  type Summary,
} from "./_measure.ts";

/** The project's root folder (where deno.json is). */
export const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const DENO = Deno.execPath();

/**
 * The Looker emulator with the benchmark's app registered, auto-approving
 * (a person already signed in who accepted the app before).
 */
export function benchLooker(
  clientId: string,
  redirectUri: string,
  accessTokenTtl?: number,
): Promise<LookerEmulator> {
  return startLookerEmulator({
    autoApprove: true,
    ...(accessTokenTtl === undefined ? {} : { accessTokenTtl }),
    apps: [{
      client_guid: clientId,
      redirect_uri: redirectUri,
      display_name: "Benchmark",
      description: "bench/run.ts",
      enabled: true,
    }],
  });
}

/** `deno run PERMS cli.ts login ...` against `looker`, as a user runs it. */
export function cliLoginArgv(
  perms: readonly string[],
  looker: LookerEmulator,
  clientId: string,
  redirectUri: string,
): string[] {
  return [
    DENO,
    "run",
    ...perms,
    "cli.ts",
    "login",
    "--looker-url",
    looker.lookerUrl,
    "--api-url",
    looker.apiUrl,
    "--client-id",
    clientId,
    "--redirect-uri",
    redirectUri,
  ];
}

/** How many runs each part makes. */
export interface Plan {
  quick: boolean;
  tokenTimePairs: number;
  tokenMemPairs: number;
  loginPairs: number;
  sessionRounds: number;
  apiTimePairs: number;
  apiMemPairs: number;
}

// ---------------------------------------------------------------------------
// token vs an empty Deno start

export interface TokenFigures {
  command: string;
  baseline: string;
  time: { token: Summary; empty: Summary; ratio: Summary };
  memory: { token: Summary; empty: Summary; ratio: Summary };
  rssMethod: RssMethod;
  modules: string[];
}

/**
 * `deno run <perms> cli.ts token` with a valid cached token, against `deno run
 * <perms> bench/_empty.ts`, both from the project folder (same deno.json, same
 * lockfile), interleaved.
 */
export async function benchToken(plan: Plan): Promise<TokenFigures> {
  const perms = await compilePermissions();
  const home = await Deno.makeTempDir({ prefix: "looker-oauth-bench-" });
  try {
    // A valid token file, as FileTokenStore writes it (0600 in a 0700 folder).
    const store = new FileTokenStore({ home, profile: "default" });
    const accessToken = `bench-${crypto.randomUUID()}`;
    await store.save({
      accessToken,
      tokenType: "Bearer",
      expiresAt: Date.now() + 3_600_000,
      refreshToken: "bench-refresh",
    });
    const env = { LOOKER_OAUTH_HOME: home, NO_COLOR: "1" };
    const token: Cmd = {
      label: "token",
      argv: [DENO, "run", ...perms, "cli.ts", "token"],
      cwd: ROOT,
      env,
      verify: (run) => {
        if (run.code !== 0 || run.stdout !== `${accessToken}\n`) {
          throw new Error(
            `looker-oauth token: exit ${run.code}, stdout ${
              JSON.stringify(run.stdout)
            }, stderr ${run.stderr.trim()}`,
          );
        }
        if (run.stderr !== "") {
          throw new Error(`looker-oauth token wrote to stderr: ${run.stderr}`);
        }
      },
    };
    const empty: Cmd = {
      label: "empty",
      argv: [DENO, "run", ...perms, "bench/_empty.ts"],
      cwd: ROOT,
      env,
    };
    const command = `deno run ${perms.join(" ")} cli.ts token`;
    const baseline = `deno run ${perms.join(" ")} bench/_empty.ts`;
    say(`  A: ${command}   (LOOKER_OAUTH_HOME holds a valid token)`);
    say(`  B: ${baseline}`);
    say(`  both from ${ROOT} (same deno.json and deno.lock)`);

    const modules = await tokenModules(perms, env);
    say(
      `  modules Deno loads for token: ${modules.length} (${
        modules.join(", ")
      })`,
    );

    const time = await interleave(
      async () => (await runOnce(token)).ms,
      async () => (await runOnce(empty)).ms,
      plan.tokenTimePairs,
      3,
    );
    say(
      `  wall time, ${plan.tokenTimePairs} pairs: token ${
        fmtMs(time.a)
      }, empty ${fmtMs(time.b)}`,
    );
    say(`    ratio per pair: ${fmtRatio(time.ratio)}`);
    let method: RssMethod = "getrusage";
    const memory = await interleave(
      async () => {
        const r = await peakRss(token);
        method = r.method;
        return r.kib;
      },
      async () => (await peakRss(empty)).kib,
      plan.tokenMemPairs,
      1,
    );
    say(
      `  peak RSS, ${plan.tokenMemPairs} pairs (${
        rssMethodText(method)
      }): token ${fmtMiB(memory.a)}, empty ${fmtMiB(memory.b)}`,
    );
    say(`    ratio per pair: ${fmtRatio(memory.ratio)}`);
    return {
      command,
      baseline,
      time: { token: time.a, empty: time.b, ratio: time.ratio },
      memory: { token: memory.a, empty: memory.b, ratio: memory.ratio },
      rssMethod: method,
      modules,
    };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** How peak memory was read, for people. */
export function rssMethodText(method: RssMethod): string {
  return method === "getrusage"
    ? "GNU time %M: the kernel's ru_maxrss at exit, exact"
    : "/proc/<pid>/status VmHWM polled every ms: approximate, GNU time missing";
}

/** The project files Deno reads to run `token` (from its debug log). */
async function tokenModules(
  perms: string[],
  env: Record<string, string>,
): Promise<string[]> {
  const run = await runOnce({
    label: "token -L debug",
    argv: [DENO, "run", "-L", "debug", ...perms, "cli.ts", "token"],
    cwd: ROOT,
    env,
    verify: (r) => {
      if (r.code !== 0) throw new Error(`token -L debug: exit ${r.code}`);
    },
  });
  const seen = new Set<string>();
  for (const m of run.stderr.matchAll(/fetch_no_follow - specifier: (\S+)/g)) {
    seen.add(m[1]!.replace(`file://${ROOT}/`, ""));
  }
  return [...seen];
}

// ---------------------------------------------------------------------------
// login vs a minimal oauth4webapi login

export interface LoginFigures {
  command: string;
  baseline: string;
  cli: Summary;
  minimal: Summary;
  ratio: Summary;
}

/**
 * A whole `looker-oauth login` process against the Looker emulator, against
 * bench/minimal_login.ts, interleaved. The same scripted person answers both:
 * this process reads the authorization URL from the child's stderr (both print
 * it; $BROWSER is `true`, so both also start a browser program) and plays the
 * person with browse(). The emulator auto-approves (a person already signed
 * in to Looker who accepted the app before), so the figure is the programs',
 * not the pages'.
 */
export async function benchLogin(plan: Plan): Promise<LoginFigures> {
  const perms = await compilePermissions();
  // Below the ephemeral range: not a port the system hands out meanwhile.
  const port = freeLoopbackPort(["127.0.0.1"]);
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const clientId = "bench-cli";
  await using looker = await benchLooker(clientId, redirectUri);
  const scratch = await Deno.makeTempDir({ prefix: "looker-oauth-bench-" });
  try {
    const env = { NO_COLOR: "1", BROWSER: "true" };
    let n = 0;
    const cli = async (): Promise<number> => {
      const home = `${scratch}/cli-${n++}`;
      const ms = await loginProcess(
        cliLoginArgv(perms, looker, clientId, redirectUri),
        { ...env, LOOKER_OAUTH_HOME: home },
      );
      await assertTokenFile(`${home}/tokens/default.json`, "tokens");
      return ms;
    };
    const minimal = async (): Promise<number> => {
      const out = `${scratch}/minimal-${n++}.json`;
      const ms = await loginProcess([
        DENO,
        "run",
        ...perms,
        "bench/minimal_login.ts",
        looker.lookerUrl,
        looker.apiUrl,
        clientId,
        redirectUri,
        out,
      ], env);
      await assertTokenFile(out, undefined);
      return ms;
    };
    const command = `deno run ${
      perms.join(" ")
    } cli.ts login --looker-url … --api-url … --client-id … --redirect-uri ${
      redirectUri.replace(String(port), "PORT")
    }`;
    const baseline = `deno run ${
      perms.join(" ")
    } bench/minimal_login.ts LOOKER_URL API_URL CLIENT_ID REDIRECT_URI OUT`;
    say(`  A: ${command}`);
    say(`  B: ${baseline}`);
    say(
      "  emulator auto-approves; this process plays the person (browse()) from the URL each prints",
    );
    const before = looker.stats.codeExchanges;
    const t = await interleave(cli, minimal, plan.loginPairs, 1);
    const exchanges = looker.stats.codeExchanges - before;
    if (exchanges !== 2 * (plan.loginPairs + 1)) {
      throw new Error(
        `expected ${
          2 * (plan.loginPairs + 1)
        } code exchanges, saw ${exchanges}`,
      );
    }
    say(
      `  ${plan.loginPairs} pairs: login ${fmtMs(t.a)}, minimal ${fmtMs(t.b)}`,
    );
    say(`    ratio per pair: ${fmtRatio(t.ratio)}`);
    return { command, baseline, cli: t.a, minimal: t.b, ratio: t.ratio };
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

/**
 * Runs one sign-in process: waits for the authorization URL on its stderr,
 * browses it, waits for the exit. Returns the wall time, spawn to exit.
 */
export async function loginProcess(
  argv: string[],
  env: Record<string, string>,
): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += value;
    url = /(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)/.exec(stderr)?.[1];
  }
  const drained = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += value;
    }
  })();
  if (url === undefined) {
    await child.status;
    throw new Error(`no authorization URL on stderr:\n${stderr}`);
  }
  const page = await browse(url);
  const status = await child.status;
  const ms = performance.now() - started;
  await drained;
  if (!status.success || page.status !== 200) {
    throw new Error(
      `${
        argv.slice(2, 5).join(" ")
      }: exit ${status.code}, last page ${page.status} ${page.url.pathname}\n${stderr}`,
    );
  }
  return ms;
}

async function assertTokenFile(
  path: string,
  key: string | undefined,
): Promise<void> {
  const data = JSON.parse(await Deno.readTextFile(path));
  const tokens = key ? data[key] : data;
  const token = tokens?.accessToken ?? tokens?.access_token;
  if (typeof token !== "string" || token === "") {
    throw new Error(`${path} holds no access token`);
  }
}

// ---------------------------------------------------------------------------
// the core's browser bundle

export interface BundleFigures {
  core: { minified: number; gzip: number };
  oauth4webapi: { minified: number; gzip: number };
  /** The core bundled with oauth4webapi left external: the core's own code. */
  own: { minified: number; gzip: number };
  /** bench/_browser_app.ts: what a Looker browser app imports. */
  app: { minified: number; gzip: number };
  /** bench/_browser_signin.ts: the Looker sign-in functions alone. */
  signIn: { minified: number; gzip: number };
  /** Minified bytes per source file of the core bundle (from its source map). */
  bySource: { source: string; bytes: number }[];
  /** Bytes of string literals (messages, hints) in the core bundle. */
  strings: { minified: number; gzip: number };
  command: string;
}

/** gzip size with CompressionStream("gzip") (the platform's default level). */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

export async function bundle(
  entry: string,
  out: string,
  extra: string[] = [],
): Promise<Uint8Array> {
  // out: an absolute path outside the project (deno lint/fmt would see it).
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--minify",
    ...extra,
    "--output",
    out,
    entry,
  ];
  const result = await new Deno.Command(DENO, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(
      `deno ${args.join(" ")} failed (exit ${result.code}):\n${
        new TextDecoder().decode(result.stderr).trim()
      }`,
    );
  }
  return await Deno.readFile(out);
}

/**
 * `deno bundle --platform browser --minify src/core/mod.ts`, gzipped, against
 * the same for bench/_o4w_parts.ts (the oauth4webapi exports the core uses).
 */
export async function benchBundle(): Promise<BundleFigures> {
  checkPartsList();
  const command = "deno bundle --platform browser --minify src/core/mod.ts";
  say(`  core:         ${command}`);
  say(
    "  oauth4webapi: deno bundle --platform browser --minify bench/_o4w_parts.ts",
  );
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-bundle-" });
  try {
    const core = await bundle("src/core/mod.ts", `${dir}/core.min.js`, [
      "--sourcemap",
      "external",
    ]);
    const o4w = await bundle("bench/_o4w_parts.ts", `${dir}/o4w.min.js`);
    const own = await bundle("src/core/mod.ts", `${dir}/core-own.min.js`, [
      "--external",
      "oauth4webapi",
    ]);
    const app = await bundle("bench/_browser_app.ts", `${dir}/app.min.js`);
    const signIn = await bundle(
      "bench/_browser_signin.ts",
      `${dir}/signin.min.js`,
    );
    const figures: BundleFigures = {
      core: { minified: core.length, gzip: await gzipSize(core) },
      oauth4webapi: { minified: o4w.length, gzip: await gzipSize(o4w) },
      own: { minified: own.length, gzip: await gzipSize(own) },
      app: { minified: app.length, gzip: await gzipSize(app) },
      signIn: { minified: signIn.length, gzip: await gzipSize(signIn) },
      bySource: await bytesBySource(core, `${dir}/core.min.js.map`),
      strings: await stringBytes(own),
      command,
    };
    const row = (name: string, f: { minified: number; gzip: number }) =>
      say(
        `  ${name.padEnd(44)} ${String(f.minified).padStart(6)} B min  ${
          String(f.gzip).padStart(6)
        } B min+gz`,
      );
    row("core (src/core/mod.ts)", figures.core);
    row("oauth4webapi parts the core uses", figures.oauth4webapi);
    row("core's own code (oauth4webapi external)", figures.own);
    row("  of which string literals", figures.strings);
    row("a Looker browser app (bench/_browser_app.ts)", figures.app);
    row("sign-in alone (bench/_browser_signin.ts)", figures.signIn);
    say("  minified bytes by source (core bundle, from its source map):");
    for (const { source, bytes } of figures.bySource.slice(0, 8)) {
      say(`    ${String(bytes).padStart(6)}  ${source}`);
    }
    return figures;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Fails when bench/_o4w_parts.ts and src/core disagree on what is used. */
function checkPartsList(): void {
  const used = new Set<string>();
  for (const entry of Deno.readDirSync(`${ROOT}/src/core`)) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = Deno.readTextFileSync(`${ROOT}/src/core/${entry.name}`);
    if (!/from "oauth4webapi"/.test(text)) continue;
    for (const line of text.split("\n")) {
      if (/^\s*(\*|\/\/)/.test(line)) continue;
      for (const m of line.matchAll(/\boauth\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
        used.add(m[1]!);
      }
    }
  }
  const parts = Deno.readTextFileSync(`${ROOT}/bench/_o4w_parts.ts`);
  const listed = new Set(
    [...parts.matchAll(/^\s+([A-Za-z_][A-Za-z0-9_]*),$/gm)].map((m) => m[1]!),
  );
  // Types cost no bytes: only names that exist at run time must be listed.
  const values = [...used].filter((name) => name in oauth4webapi);
  const missing = values.filter((name) => !listed.has(name));
  const extra = [...listed].filter((name) => !used.has(name));
  if (missing.length || extra.length) {
    throw new Error(
      `bench/_o4w_parts.ts is out of date: add ${
        missing.join(", ") || "nothing"
      }; remove ${extra.join(", ") || "nothing"}`,
    );
  }
}

/** Minified bytes attributed to each source, from a v3 source map. */
async function bytesBySource(
  code: Uint8Array,
  mapPath: string,
): Promise<{ source: string; bytes: number }[]> {
  const map = JSON.parse(await Deno.readTextFile(mapPath)) as {
    sources: string[];
    mappings: string;
  };
  const text = new TextDecoder().decode(code);
  const lines = text.split("\n");
  const totals = new Map<number, number>();
  let source = 0;
  const mappingLines = map.mappings.split(";");
  for (let li = 0; li < mappingLines.length && li < lines.length; li++) {
    const segments = mappingLines[li]!.split(",").filter(Boolean);
    let column = 0;
    const starts: { column: number; source: number }[] = [];
    for (const segment of segments) {
      const fields = decodeVlq(segment);
      column += fields[0]!;
      if (fields.length >= 4) source += fields[1]!;
      starts.push({ column, source });
    }
    const lineLength = new TextEncoder().encode(lines[li]!).length;
    for (let i = 0; i < starts.length; i++) {
      const end = i + 1 < starts.length ? starts[i + 1]!.column : lineLength;
      const bytes = Math.max(0, end - starts[i]!.column);
      totals.set(
        starts[i]!.source,
        (totals.get(starts[i]!.source) ?? 0) + bytes,
      );
    }
  }
  return [...totals].map(([i, bytes]) => ({
    source: (map.sources[i] ?? "?").replace(/^.*?\/(src\/core\/)/, "$1")
      .replace(/^.*\/(oauth4webapi\/[^/]+\/)/, "npm:$1"),
    bytes,
  })).sort((a, b) => b.bytes - a.bytes);
}

const VLQ = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = VLQ.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** String and template literals in minified code. */
async function stringBytes(
  code: Uint8Array,
): Promise<{ minified: number; gzip: number }> {
  const text = new TextDecoder().decode(code);
  const literals =
    text.match(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g) ??
      [];
  const joined = new TextEncoder().encode(literals.join("\n"));
  return { minified: joined.length, gzip: await gzipSize(joined) };
}

// ---------------------------------------------------------------------------
// deno bench

export interface CoreBenchRow {
  name: string;
  n: number;
  avgNs: number;
  p75Ns: number;
  p99Ns: number;
}

/** Runs `deno bench --json bench/core_bench.ts` and prints the summary. */
export async function benchCore(): Promise<CoreBenchRow[]> {
  say("  deno bench --json bench/core_bench.ts");
  const result = await new Deno.Command(DENO, {
    args: ["bench", "--json", "--quiet", "bench/core_bench.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(result.stdout);
  if (!result.success) {
    throw new Error(
      `deno bench failed (exit ${result.code}):\n${text}\n${
        new TextDecoder().decode(result.stderr)
      }`,
    );
  }
  const report = JSON.parse(text) as {
    benches: {
      name: string;
      results: { ok?: { n: number; avg: number; p75: number; p99: number } }[];
    }[];
  };
  const rows: CoreBenchRow[] = report.benches.map((b) => {
    const ok = b.results[0]?.ok;
    if (!ok) throw new Error(`deno bench: ${b.name} failed`);
    return {
      name: b.name,
      n: ok.n,
      avgNs: ok.avg,
      p75Ns: ok.p75,
      p99Ns: ok.p99,
    };
  });
  for (const r of rows) {
    say(
      `  ${r.name.padEnd(62)} avg ${fmtUs(r.avgNs)}  p75 ${
        fmtUs(r.p75Ns)
      }  p99 ${fmtUs(r.p99Ns)}  (${
        Math.round(1e9 / r.avgNs).toLocaleString("en-US")
      }/s, n=${r.n})`,
    );
  }
  return rows;
}

/** `12.3 µs`. */
export function fmtUs(ns: number): string {
  return `${(ns / 1000).toFixed(1)} µs`;
}

// ---------------------------------------------------------------------------
// TokenSession single-flight

export interface SessionFigures {
  callers: number;
  rounds: number;
  /** Refresh requests the server saw, per round (each must be 1). */
  refreshes: number[];
  /** Time for all callers to get their token, per round. */
  ms: Summary;
  store: string;
}

/**
 * 1,000 concurrent getAccessToken() calls on an expired token, against the
 * Looker emulator (which rotates refresh tokens and revokes the grant when a
 * rotated one comes back); a fresh sign-in, session and store each round.
 */
export async function benchSession(
  plan: Plan,
  kind: "memory" | "file",
): Promise<SessionFigures> {
  const callers = 1000;
  const clientId = "bench";
  const redirectUri = "http://127.0.0.1:8080/callback";
  await using emulator = await benchLooker(clientId, redirectUri);
  const looker = lookerServer({
    lookerUrl: emulator.lookerUrl,
    apiUrl: emulator.apiUrl,
  });
  /** A fresh sign-in's tokens, their access token already expired. */
  const expiredSignIn = async (): Promise<TokenSet> => {
    const pending = await startAuthorization(looker, {
      clientId,
      redirectUri,
    });
    const redirected = await fetch(pending.url, { redirect: "manual" });
    await redirected.body?.cancel();
    const callback = new URL(redirected.headers.get("location") ?? "");
    const tokens = await exchangeCode(looker, {
      clientId,
      redirectUri,
      code: parseCallback(looker, callback, { state: pending.state }),
      codeVerifier: pending.codeVerifier,
    });
    return { ...tokens, expiresAt: Date.now() - 1000 };
  };
  const home = kind === "file"
    ? await Deno.makeTempDir({ prefix: "looker-oauth-bench-" })
    : undefined;
  const perRound: number[] = [];
  const times: number[] = [];
  try {
    for (let round = -1; round < plan.sessionRounds; round++) {
      const expired = await expiredSignIn();
      let store: TokenStore;
      if (home) {
        const file = new FileTokenStore({ home, profile: "bench" });
        await file.save(expired);
        store = file;
      } else {
        store = new MemoryTokenStore(expired);
      }
      const session = new TokenSession({
        server: looker,
        clientId,
        redirectUri,
        store,
      });
      const before = emulator.stats.refreshes;
      const started = performance.now();
      const tokens = await Promise.all(
        Array.from({ length: callers }, () => session.getAccessToken()),
      );
      const ms = performance.now() - started;
      const refreshes = emulator.stats.refreshes - before;
      const distinct = new Set(tokens);
      if (distinct.size !== 1 || distinct.has(expired.accessToken)) {
        throw new Error(
          `callers got ${distinct.size} different tokens: ${
            [...distinct].slice(0, 3)
          }`,
        );
      }
      if (round >= 0) { // round -1 warms up
        perRound.push(refreshes);
        times.push(ms);
      }
    }
  } finally {
    if (home) await Deno.remove(home, { recursive: true });
  }
  const figures: SessionFigures = {
    callers,
    rounds: plan.sessionRounds,
    refreshes: perRound,
    ms: summarize(times),
    store: kind === "file"
      ? "FileTokenStore (0600 file, cross-process lock)"
      : "MemoryTokenStore",
  };
  say(
    `  ${figures.store}: ${callers} concurrent getAccessToken(), ${plan.sessionRounds} rounds: refreshes per round ${
      summarizeCounts(perRound)
    }; all served in ${fmtMs(figures.ms)}`,
  );
  return figures;
}

function summarizeCounts(counts: number[]): string {
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  return min === max ? String(min) : `${min}–${max}`;
}
