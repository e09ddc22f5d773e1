// deno-lint-ignore-file no-console
/**
 * The project's benchmarks: `deno task bench` (full), `deno task bench
 * --quick` (CI: fewer runs, same figures), `deno task bench --write` (full,
 * then rewrites bench/RESULTS.md).
 *
 * Whole-process figures are ratios measured side by side in one run: the two
 * commands alternate (A B, B A, A B, ...), and each pair gives one ratio; the
 * table shows the median ratio and its p10–p90 spread. Targets are
 * informational: a missed target prints MISS and still exits 0; a benchmark
 * that cannot run (a command fails, a check inside fails) exits 1.
 *
 * Flags: --quick, --write, --only=token,api,login,bundle,page,core,session,
 * edge, --help.
 *
 * @module
 */
import {
  benchBundle,
  benchCore,
  benchLogin,
  benchSession,
  benchToken,
  type BundleFigures,
  type CoreBenchRow,
  fmtUs,
  type LoginFigures,
  type Plan,
  ROOT,
  rssMethodText,
  type SessionFigures,
  type TokenFigures,
} from "./_sections.ts";
import { gnuTime, type Summary } from "./_measure.ts";
import { benchPage, type PageFigures } from "./_page.ts";
import { benchEdge, type EdgeFigures, type EdgePlan } from "./_edge.ts";
import { type ApiFigures, benchApi, type Versus } from "./_api.ts";

const SECTIONS = [
  "token",
  "api",
  "login",
  "bundle",
  "page",
  "core",
  "session",
  "edge",
] as const;
type Section = (typeof SECTIONS)[number];

const TARGETS = {
  tokenTime: 1.2,
  tokenMemory: 1.17,
  apiTime: 1.15,
  apiMemory: 1.15,
  // Retired targets, still printed beside their figures as references: the
  // browser page's whole script (pageBytes) and `api` replace them.
  retiredLogin: 1.3,
  retiredCoreBytes: 9000,
  pageBytes: 12_000,
  edgeMemory: 0.8,
  edgeKv: 0.5,
} as const;

const HISTORY_MARK =
  "<!-- history: kept as is by `deno task bench --write` -->";

interface Options {
  quick: boolean;
  write: boolean;
  only: Set<Section>;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    quick: false,
    write: false,
    only: new Set(SECTIONS),
  };
  for (const arg of argv) {
    if (arg === "--") continue;
    if (arg === "--quick") options.quick = true;
    else if (arg === "--write") options.write = true;
    else if (arg.startsWith("--only=")) {
      const names = arg.slice(7).split(",").filter(Boolean);
      for (const name of names) {
        if (!(SECTIONS as readonly string[]).includes(name)) {
          usage(`unknown section ${name}`);
        }
      }
      options.only = new Set(names as Section[]);
    } else if (arg === "--help" || arg === "-h") {
      console.log(HELP);
      Deno.exit(0);
    } else usage(`unknown argument ${arg}`);
  }
  if (options.write && (options.quick || options.only.size < SECTIONS.length)) {
    usage("--write records a full run: no --quick, no --only");
  }
  return options;
}

const HELP = `Usage: deno task bench [--quick] [--write] [--only=SECTIONS]

  --quick    fewer runs (CI): same figures, wider spread, under ~40 s
  --write    full run, then rewrite bench/RESULTS.md
  --only=    comma-separated: ${SECTIONS.join(",")}

Exit 0 when every benchmark ran (targets missed or not); 1 when one broke.`;

function usage(message: string): never {
  console.error(`bench: ${message}\n\n${HELP}`);
  Deno.exit(2);
}

interface Machine {
  cpu: string;
  cores: number;
  deno: string;
  v8: string;
  typescript: string;
  os: string;
  date: string;
  rss: string;
}

/** The 1-minute load average, when the system tells. */
async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ")[0] ?? "?";
  } catch {
    return "?";
  }
}

async function machine(): Promise<Machine> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    rss: (await gnuTime()) ? "GNU time" : "/proc polling",
  };
}

interface Results {
  load: { before: string; after: string };
  token?: TokenFigures;
  api?: ApiFigures;
  login?: LoginFigures;
  bundle?: BundleFigures;
  page?: PageFigures;
  core?: CoreBenchRow[];
  session?: SessionFigures[];
  edge?: EdgeFigures;
  broken: { section: Section; error: string }[];
}

interface Row {
  figure: string;
  measured: string;
  target: string;
  verdict: "PASS" | "MISS" | "—" | "BROKEN";
}

// Three decimals: a median of 1.152 must not read as "1.15×, MISS".
const ratio = (s: Summary) =>
  `${s.median.toFixed(3)}× (p10–p90 ${s.p10.toFixed(2)}–${s.p90.toFixed(2)})`;
const verdict = (ok: boolean): Row["verdict"] => (ok ? "PASS" : "MISS");

function rows(r: Results): Row[] {
  const out: Row[] = [];
  const broken = (section: Section) =>
    r.broken.some((b) => b.section === section);
  if (r.token) {
    out.push({
      figure: "`token` wall time ÷ empty `deno run`",
      measured: ratio(r.token.time.ratio),
      target: `≤ ${TARGETS.tokenTime}×`,
      verdict: verdict(r.token.time.ratio.median <= TARGETS.tokenTime),
    });
    out.push({
      figure: "`token` peak RSS ÷ empty `deno run`",
      measured: ratio(r.token.memory.ratio),
      target: `≤ ${TARGETS.tokenMemory}×`,
      verdict: verdict(r.token.memory.ratio.median <= TARGETS.tokenMemory),
    });
  } else if (broken("token")) {
    out.push(brokenRow("`token` vs empty `deno run`"));
  }
  if (r.api) {
    const a = r.api.api;
    out.push({
      figure: "`api /user` wall time ÷ minimal script (bench/_minimal_api.ts)",
      measured: ratio(a.time.ratio),
      target: `≤ ${TARGETS.apiTime}×`,
      verdict: verdict(a.time.ratio.median <= TARGETS.apiTime),
    });
    out.push({
      figure: "`api /user` peak RSS ÷ minimal script",
      measured: `${ratio(a.memory.ratio)}; ${mibOf(a.memory.a)} vs ${
        mibOf(a.memory.b)
      }`,
      target: `≤ ${TARGETS.apiMemory}×`,
      verdict: verdict(a.memory.ratio.median <= TARGETS.apiMemory),
    });
    if (a.cpu) {
      out.push({
        figure: "`api /user` CPU (user+sys) ÷ minimal script",
        measured: `${ratio(a.cpu.ratio)}; ${a.cpu.a.median.toFixed(0)} vs ${
          a.cpu.b.median.toFixed(0)
        } ms`,
        target: "(reference)",
        verdict: "—",
      });
    }
    const g = r.api.gh;
    out.push({
      figure: "`token` ÷ `gh auth token` (Debian gh), wall time; peak RSS",
      measured: g
        ? `${ratio(g.time.ratio)}; ${g.memory.ratio.median.toFixed(3)}× (${
          mibOf(g.memory.a)
        } vs ${mibOf(g.memory.b)})`
        : "(gh not installed)",
      target: "(reference)",
      verdict: "—",
    });
  } else if (broken("api")) {
    out.push(brokenRow("`api /user` vs minimal script"));
  }
  if (r.login) {
    out.push({
      figure: "`login` wall time ÷ minimal oauth4webapi login",
      measured: ratio(r.login.ratio),
      target: `(retired: ≤ ${TARGETS.retiredLogin}×)`,
      verdict: "—",
    });
  } else if (broken("login")) out.push(brokenRow("`login` vs minimal login"));
  if (r.bundle) {
    out.push({
      figure: "core browser bundle, min+gz",
      measured: `${r.bundle.core.gzip.toLocaleString("en-US")} B`,
      target: `(retired: ≤ ${
        TARGETS.retiredCoreBytes.toLocaleString("en-US")
      } B)`,
      verdict: "—",
    });
    out.push({
      figure: "oauth4webapi parts the core uses, min+gz",
      measured: `${r.bundle.oauth4webapi.gzip.toLocaleString("en-US")} B`,
      target: "(reference)",
      verdict: "—",
    });
    out.push({
      figure: "a Looker browser app's imports (bench/_browser_app.ts), min+gz",
      measured: `${r.bundle.app.gzip.toLocaleString("en-US")} B`,
      target: "(reference)",
      verdict: "—",
    });
    out.push({
      figure: "the Looker sign-in alone (bench/_browser_signin.ts), min+gz",
      measured: `${r.bundle.signIn.gzip.toLocaleString("en-US")} B`,
      target: "(reference)",
      verdict: "—",
    });
  } else if (broken("bundle")) out.push(brokenRow("core browser bundle"));
  if (r.page) {
    out.push({
      figure:
        "the browser example's whole script (examples/browser/app.ts), min+gz",
      measured: `${r.page.page.gzip.toLocaleString("en-US")} B`,
      target: `≤ ${TARGETS.pageBytes.toLocaleString("en-US")} B`,
      verdict: verdict(r.page.page.gzip <= TARGETS.pageBytes),
    });
    out.push({
      figure:
        "… ÷ @looker/sdk-rtl OAuthSession + BrowserTransport (bench/_sdk_rtl_browser.ts)",
      measured: `${r.page.ratio.toFixed(2)}× (${
        r.page.sdkRtl.gzip.toLocaleString("en-US")
      } B)`,
      target: "(reference)",
      verdict: "—",
    });
    out.push({
      figure:
        "… the same with oauth4webapi external (the page's and the library's own code)",
      measured: `${r.page.own.gzip.toLocaleString("en-US")} B`,
      target: "(reference)",
      verdict: "—",
    });
  } else if (broken("page")) out.push(brokenRow("browser example's script"));
  if (r.core) {
    for (const row of r.core) {
      out.push({
        figure: `deno bench: ${row.name}`,
        measured: `${fmtUs(row.avgNs)} avg, ${fmtUs(row.p99Ns)} p99`,
        target: "(reference)",
        verdict: "—",
      });
    }
  } else if (broken("core")) out.push(brokenRow("deno bench (core)"));
  if (r.session) {
    for (const s of r.session) {
      const max = Math.max(...s.refreshes);
      const min = Math.min(...s.refreshes);
      const store = s.store.split(" ")[0];
      out.push({
        figure: `TokenSession, ${
          s.callers.toLocaleString("en-US")
        } concurrent callers, expired token (${store}): refreshes`,
        measured: min === max ? `${max} per round` : `${min}–${max} per round`,
        target: "= 1",
        verdict: verdict(min === 1 && max === 1),
      });
      out.push({
        figure: `… time until all ${
          s.callers.toLocaleString("en-US")
        } have the token (${store})`,
        measured: `${s.ms.median.toFixed(1)} ms (p10–p90 ${
          s.ms.p10.toFixed(1)
        }–${s.ms.p90.toFixed(1)})`,
        target: "(reference)",
        verdict: "—",
      });
    }
  } else if (broken("session")) out.push(brokenRow("TokenSession"));
  if (r.edge) {
    const e = r.edge;
    const p99 = (s: Summary) => `p99 ${s.median.toFixed(1)} ms`;
    out.push({
      figure:
        "signed-in route (server helpers, MemorySessionStore) req/s ÷ bare `Deno.serve` route (wrk)",
      measured: `${ratio(e.memory.ratio)}; ${p99(e.memory.p99Ms)} vs ${
        p99(e.bare.p99Ms)
      }`,
      target: `≥ ${TARGETS.edgeMemory}×`,
      verdict: verdict(e.memory.ratio.median >= TARGETS.edgeMemory),
    });
    out.push({
      figure: "signed-in route (KvSessionStore) req/s ÷ bare route (wrk)",
      measured: `${ratio(e.kv.ratio)}; ${p99(e.kv.p99Ms)}`,
      target: `≥ ${TARGETS.edgeKv}×`,
      verdict: verdict(e.kv.ratio.median >= TARGETS.edgeKv),
    });
    out.push({
      figure:
        "signed-in route (KvSessionStore, cacheMs: 1000) req/s ÷ bare route (wrk)",
      measured: `${ratio(e.kvCache.ratio)}; ${p99(e.kvCache.p99Ms)}`,
      target: `≥ ${TARGETS.edgeKv}×`,
      verdict: verdict(e.kvCache.ratio.median >= TARGETS.edgeKv),
    });
    out.push({
      figure: `memory per ${
        e.sessions.count.toLocaleString("en-US")
      } live sessions (MemorySessionStore heap; KvSessionStore file)`,
      measured: `${(e.sessions.memoryBytes / 2 ** 20).toFixed(2)} MiB heap; ${
        (e.sessions.kvFileBytes / 2 ** 20).toFixed(2)
      } MiB on disk`,
      target: "(reference)",
      verdict: "—",
    });
    out.push({
      figure:
        "… server CPU per request, bare ÷ signed-in (memory; KV; KV cached): the ratio without other load",
      measured: `${e.memory.cpuRatio.median.toFixed(3)}×; ${
        e.kv.cpuRatio.median.toFixed(3)
      }×; ${e.kvCache.cpuRatio.median.toFixed(3)}× (${
        e.bare.cpuUs.median.toFixed(0)
      }, ${e.memory.cpuUs.median.toFixed(0)}, ${
        e.kv.cpuUs.median.toFixed(0)
      }, ${e.kvCache.cpuUs.median.toFixed(0)} µs)`,
      target: "(reference)",
      verdict: "—",
    });
  } else if (broken("edge")) out.push(brokenRow("edge load (wrk)"));
  return out;
}

const mibOf = (s: Summary) => `${(s.median / 1024).toFixed(1)} MiB`;

function brokenRow(figure: string): Row {
  return { figure, measured: "not measured", target: "", verdict: "BROKEN" };
}

function printTable(list: Row[]): void {
  const w = [
    Math.max(6, ...list.map((r) => plain(r.figure).length)),
    Math.max(8, ...list.map((r) => r.measured.length)),
    Math.max(6, ...list.map((r) => r.target.length)),
  ];
  const line = (a: string, b: string, c: string, d: string) =>
    console.log(
      `${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  ${c.padEnd(w[2]!)}  ${d}`,
    );
  line("figure", "measured", "target", "");
  line("-".repeat(w[0]!), "-".repeat(w[1]!), "-".repeat(w[2]!), "----");
  for (const r of list) line(plain(r.figure), r.measured, r.target, r.verdict);
}

function plain(markdown: string): string {
  return markdown.replaceAll("`", "");
}

function markdownTable(list: Row[]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    "| figure | measured (median, p10–p90) | target | |",
    "|---|---|---|---|",
    ...list.map((r) =>
      `| ${esc(r.figure)} | ${esc(r.measured)} | ${esc(r.target)} | ${
        r.verdict === "PASS"
          ? "**PASS**"
          : r.verdict === "MISS"
          ? "**MISS**"
          : r.verdict
      } |`
    ),
  ].join("\n");
}

function resultsMarkdown(m: Machine, plan: Plan, r: Results): string {
  const ms = (s: Summary) =>
    `${s.median.toFixed(1)} ms (p10–p90 ${s.p10.toFixed(1)}–${
      s.p90.toFixed(1)
    })`;
  const mib = (s: Summary) =>
    `${(s.median / 1024).toFixed(1)} MiB (p10–p90 ${
      (s.p10 / 1024).toFixed(1)
    }–${(s.p90 / 1024).toFixed(1)})`;
  const parts: string[] = [];
  parts.push(`# Benchmark results

Generated by \`deno task bench --write\` (bench/run.ts, full run). Do not edit
above the history mark: the next \`--write\` replaces it.

- Date: ${m.date}
- Machine: ${m.cpu}, ${m.cores} cores; ${m.os}
- Deno ${m.deno} (V8 ${m.v8}, TypeScript ${m.typescript})
- 1-minute load average: ${r.load.before} at the start, ${r.load.after} at the end (other work on the machine widens the spreads)
- Runs: token ${plan.tokenTimePairs} pairs (time) and ${plan.tokenMemPairs} pairs (memory), login ${plan.loginPairs} pairs, TokenSession ${plan.sessionRounds} rounds; each pair alternates which command goes first, after unmeasured warm-up runs

## Summary

${markdownTable(rows(r))}
`);
  if (r.token) {
    const t = r.token;
    parts.push(`## \`token\` with a valid cached token vs an empty Deno start

- A: \`${t.command}\` (LOOKER_OAUTH_HOME holds a valid token file written by FileTokenStore)
- B: \`${t.baseline}\` (a zero-byte file)
- Both from the project folder (same deno.json, same deno.lock), flags from deno.json's \`tasks.compile\`, type checking as \`deno run\` does it (none)
- Wall time: spawn to exit, seen from the benchmark process. Peak memory: ${
      rssMethodText(t.rssMethod)
    }, run separately from the timed runs

| | token | empty | ratio per pair |
|---|---|---|---|
| wall time | ${ms(t.time.token)} | ${ms(t.time.empty)} | ${
      ratio(t.time.ratio)
    } |
| peak RSS | ${mib(t.memory.token)} | ${mib(t.memory.empty)} | ${
      ratio(t.memory.ratio)
    } |

Files Deno reads for \`token\` (its module graph, from \`deno run -L debug\`): ${t.modules.length}:
${t.modules.map((f) => `\`${f}\``).join(", ")}.
`);
  }
  if (r.api) {
    const a = r.api;
    const line = (name: string, v: Versus, what: "time" | "memory" | "cpu") => {
      const f = v[what];
      if (!f) return "";
      const show = what === "memory" ? mib : ms;
      return `| ${name} | ${show(f.a)} | ${show(f.b)} | ${ratio(f.ratio)} |\n`;
    };
    parts.push(`## \`api /user\` with a valid token vs a minimal fetch script

- A: \`${a.command}\` (signed in once with \`login\` to the Looker emulator on 127.0.0.1; access token valid a day)
- B: \`${a.baseline}\` (bench/_minimal_api.ts: read the token file, the same \`fetch\`, print the body)
- Every run must print the signed-in user; the emulator counts the calls and must see no refresh. Peak memory and CPU: ${
      rssMethodText(a.rssMethod)
    }, run separately from the timed runs

| | api | minimal | ratio per pair |
|---|---|---|---|
${line("wall time", a.api, "time")}${line("peak RSS", a.api, "memory")}${
      line("CPU user+sys", a.api, "cpu")
    }
${
      a.gh
        ? `For the record, \`looker-oauth token\` beside \`gh auth token\` (${a.ghVersion}, \`GH_TOKEN\` set):

| | token | gh | ratio per pair |
|---|---|---|---|
${line("wall time", a.gh, "time")}${line("peak RSS", a.gh, "memory")}${
          line("CPU user+sys", a.gh, "cpu")
        }`
        : "`gh auth token`: gh not installed.\n"
    }`);
  }
  if (r.login) {
    const l = r.login;
    parts.push(`## \`login\` vs a minimal oauth4webapi login

- A: \`${l.command}\`
- B: \`${l.baseline}\` (bench/minimal_login.ts: listen, URL, validateAuthResponse, authorizationCodeGrantRequest + processAuthorizationCodeResponse, write a file)
- Against the Looker emulator (auto-approve: the person is already signed in to Looker and accepted the app before); \`BROWSER=true\` for both; the benchmark process reads the URL each prints on stderr and plays the person with \`browse()\` (src/emulator/user_agent.ts). Spawn to exit.
- A does more than B by design: it also saves the profile, takes the token file's lock, writes atomically, and asks Looker who signed in (\`GET /api/4.0/user\`).

| login | minimal | ratio per pair |
|---|---|---|
| ${ms(l.cli)} | ${ms(l.minimal)} | ${ratio(l.ratio)} |
`);
  }
  if (r.bundle) {
    const b = r.bundle;
    const row = (name: string, f: { minified: number; gzip: number }) =>
      `| ${name} | ${f.minified.toLocaleString("en-US")} | ${
        f.gzip.toLocaleString("en-US")
      } |`;
    parts.push(`## The core's browser bundle

\`${b.command}\`, gzipped with \`CompressionStream("gzip")\`; the reference is
bench/_o4w_parts.ts (exactly the oauth4webapi exports src/core uses) bundled the
same way.

| bundle | min (B) | min+gz (B) |
|---|---|---|
${row("core (src/core/mod.ts)", b.core)}
${row("oauth4webapi parts the core uses", b.oauth4webapi)}
${row("the core's own code (oauth4webapi external)", b.own)}
${row("… of which string literals (messages, hints)", b.strings)}
${row("a Looker browser app's imports (bench/_browser_app.ts)", b.app)}
${row("the Looker sign-in alone (bench/_browser_signin.ts)", b.signIn)}

Minified bytes by source file (core bundle, from its source map):

| source | min (B) |
|---|---|
${
      b.bySource.map((s) =>
        `| ${s.source} | ${s.bytes.toLocaleString("en-US")} |`
      ).join("\n")
    }
`);
  }
  if (r.page) {
    const p = r.page;
    const row = (name: string, f: { minified: number; gzip: number }) =>
      `| ${name} | ${f.minified.toLocaleString("en-US")} | ${
        f.gzip.toLocaleString("en-US")
      } |`;
    parts.push(`## The browser example's script

\`${p.command}\` (the page's own code and every part of the library it
imports), gzipped with \`CompressionStream("gzip")\`, beside the official
Looker SDK runtime's browser sign-in bundled the same way
(bench/_sdk_rtl_browser.ts: \`OAuthSession\`, the \`BrowserTransport\` it
sends with and the \`BrowserCryptoHash\` it needs for PKCE).

| bundle | min (B) | min+gz (B) |
|---|---|---|
${row("examples/browser/app.ts", p.page)}
${
      row(
        "… with oauth4webapi external (the page's and the library's own code)",
        p.own,
      )
    }
${
      row(
        "@looker/sdk-rtl OAuthSession + BrowserTransport + BrowserCryptoHash",
        p.sdkRtl,
      )
    }

Ratio (min+gz): ${p.ratio.toFixed(2)}×. The two do not do the same work. The
SDK's \`OAuthSession\` sends a constant \`state\` and never checks it, keeps
the tokens in memory only (a reload signs in again), has no lock between tabs,
and reads responses unbounded. The example's script checks a fresh 256-bit
\`state\` before anything else, honours \`iss\` (RFC 9207), removes the code
from the address bar, redeems it once, bounds every response (time and size),
keeps the tokens in Web Storage with one refresh across tabs (Web Locks), turns
CORS refusals and non-secure contexts into errors with a fix, and includes the
page's own code (the reference is the library alone).
`);
  }
  if (r.core) {
    parts.push(`## \`deno bench bench/core_bench.ts\`

| function | avg | p75 | p99 | per second |
|---|---|---|---|---|
${
      r.core.map((row) =>
        `| ${row.name} | ${fmtUs(row.avgNs)} | ${fmtUs(row.p75Ns)} | ${
          fmtUs(row.p99Ns)
        } | ${Math.round(1e9 / row.avgNs).toLocaleString("en-US")} |`
      ).join("\n")
    }
`);
  }
  if (r.session) {
    parts.push(`## TokenSession: concurrent callers on an expired token

The Looker emulator on 127.0.0.1 counts refresh requests (it rotates refresh
tokens and revokes the grant on reuse); each round signs in afresh, starts a
session over the expired token and awaits
${
      r.session[0]?.callers.toLocaleString("en-US")
    } concurrent \`getAccessToken()\` calls.

| store | refreshes per round | time to serve all |
|---|---|---|
${
      r.session.map((s) =>
        `| ${s.store} | ${[...new Set(s.refreshes)].join(", ")} | ${ms(s.ms)} |`
      ).join("\n")
    }
`);
  }
  if (r.edge) {
    const e = r.edge;
    const rps = (s: Summary) =>
      `${Math.round(s.median).toLocaleString("en-US")} (p10–p90 ${
        Math.round(s.p10).toLocaleString("en-US")
      }–${Math.round(s.p90).toLocaleString("en-US")})`;
    const us = (s: Summary) =>
      `${s.median.toFixed(1)} µs (p10–p90 ${s.p10.toFixed(1)}–${
        s.p90.toFixed(1)
      })`;
    const lat = (s: Summary) =>
      `${s.median.toFixed(2)} ms (p10–p90 ${s.p10.toFixed(2)}–${
        s.p90.toFixed(2)
      })`;
    parts.push(`## Edge: a signed-in route under load

\`${e.command}\`, ${e.plan.rounds} rounds of ${e.plan.seconds} s per route
after a 1 s warm-up each; each round runs the four routes one after the
other (the order rotates) and gives one ratio per store. The servers
(bench/_edge_server.ts) run in one Deno process: the bare route answers a
fixed 31-byte JSON body; the signed-in routes read the session cookie, look
the session up in the store, get its cached valid access token and answer the
same bytes. Each store signed in once through the helpers against the Looker
emulator. wrk and the server share the machine.

| route | req/s | p99 latency | ÷ bare, per round | server CPU per request | bare ÷ this, per round |
|---|---|---|---|---|---|
| bare \`Deno.serve\` | ${rps(e.bare.rps)} | ${lat(e.bare.p99Ms)} | 1 | ${
      us(e.bare.cpuUs)
    } | 1 |
| MemorySessionStore | ${rps(e.memory.rps)} | ${lat(e.memory.p99Ms)} | ${
      ratio(e.memory.ratio)
    } | ${us(e.memory.cpuUs)} | ${ratio(e.memory.cpuRatio)} |
| KvSessionStore (local file) | ${rps(e.kv.rps)} | ${lat(e.kv.p99Ms)} | ${
      ratio(e.kv.ratio)
    } | ${us(e.kv.cpuUs)} | ${ratio(e.kv.cpuRatio)} |
| KvSessionStore, \`cacheMs: 1000\` | ${rps(e.kvCache.rps)} | ${
      lat(e.kvCache.p99Ms)
    } | ${ratio(e.kvCache.ratio)} | ${us(e.kvCache.cpuUs)} | ${
      ratio(e.kvCache.cpuRatio)
    } |

Server CPU per request is the server process's user + system time during a
run (/proc, 10 ms ticks) ÷ the requests wrk completed: unlike req/s, it hardly
moves when other work shares the cores, so its ratio is what req/s gives on an
otherwise idle machine where the server is the bottleneck.

Memory per ${e.sessions.count.toLocaleString("en-US")} live sessions
(bench/_edge_sessions.ts, records shaped as the helpers store them: a 43-byte
key, Looker-sized tokens): ${
      e.sessions.memoryBytes.toLocaleString("en-US")
    } B of heap in MemorySessionStore (${
      Math.round(e.sessions.memoryBytes / e.sessions.count)
    } B per session), ${
      e.sessions.kvFileBytes.toLocaleString("en-US")
    } B on disk for KvSessionStore's SQLite file.
`);
  }
  return parts.join("\n");
}

async function main(): Promise<number> {
  const options = parseOptions(Deno.args);
  const plan: Plan = options.quick
    ? {
      quick: true,
      tokenTimePairs: 20,
      tokenMemPairs: 6,
      loginPairs: 6,
      sessionRounds: 5,
      apiTimePairs: 10,
      apiMemPairs: 6,
    }
    : {
      quick: false,
      tokenTimePairs: 60,
      tokenMemPairs: 20,
      loginPairs: 30,
      sessionRounds: 20,
      apiTimePairs: 40,
      apiMemPairs: 20,
    };
  const m = await machine();
  const started = performance.now();
  console.log(
    `looker-oauth benchmarks (${
      options.quick ? "quick" : "full"
    } run), ${m.date}`,
  );
  console.log(
    `${m.cpu}, ${m.cores} cores; Deno ${m.deno} (V8 ${m.v8}); peak memory via ${m.rss}`,
  );

  const results: Results = {
    broken: [],
    load: { before: await loadAverage(), after: "?" },
  };
  console.log(`1-minute load average at start: ${results.load.before}`);
  const run = async (
    section: Section,
    title: string,
    fn: () => Promise<void>,
  ) => {
    if (!options.only.has(section)) return;
    console.log(`\n▶ ${title}`);
    try {
      await fn();
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      results.broken.push({ section, error });
      console.log(`  BROKEN: ${error}`);
    }
  };
  await run(
    "token",
    "token with a valid cached token vs an empty Deno start",
    async () => {
      results.token = await benchToken(plan);
    },
  );
  await run(
    "api",
    "api /user with a valid token vs a minimal fetch script (Looker emulator); token vs gh auth token",
    async () => {
      results.api = await benchApi(plan);
    },
  );
  await run(
    "login",
    "login vs a minimal oauth4webapi login (Looker emulator, scripted person)",
    async () => {
      results.login = await benchLogin(plan);
    },
  );
  await run("bundle", "the core's browser bundle", async () => {
    results.bundle = await benchBundle();
  });
  await run("page", "the browser example's script", async () => {
    results.page = await benchPage();
  });
  await run("core", "deno bench: the core's hot functions", async () => {
    results.core = await benchCore();
  });
  await run(
    "edge",
    "edge: signed-in route vs bare Deno.serve under wrk, sessions' memory",
    async () => {
      const edge: EdgePlan = options.quick
        ? { seconds: 1, rounds: 3, connections: 32 }
        : { seconds: 2, rounds: 9, connections: 32 };
      results.edge = await benchEdge(edge);
    },
  );
  await run(
    "session",
    "TokenSession: 1,000 concurrent callers, one refresh",
    async () => {
      results.session = [
        await benchSession(plan, "memory"),
        await benchSession(plan, "file"),
      ];
    },
  );

  results.load.after = await loadAverage();
  console.log(
    `\n■ Summary (${options.quick ? "quick" : "full"} run, ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s)\n`,
  );
  printTable(rows(results));
  console.log(
    `\n1-minute load average: ${results.load.before} at start, ${results.load.after} at the end (${m.cores} cores); other work on the machine widens the spread`,
  );
  for (const b of results.broken) {
    console.log(`\nBROKEN ${b.section}: ${b.error}`);
  }

  if (options.write) {
    if (results.broken.length) {
      console.log("\nnot writing bench/RESULTS.md: a benchmark broke");
    } else {
      const path = `${ROOT}/bench/RESULTS.md`;
      let history = `${HISTORY_MARK}\n`;
      try {
        const old = await Deno.readTextFile(path);
        const at = old.indexOf(HISTORY_MARK);
        if (at !== -1) history = old.slice(at);
      } catch {
        // first write
      }
      await Deno.writeTextFile(
        path,
        `${resultsMarkdown(m, plan, results)}\n${history}`,
      );
      console.log(`\nwrote ${path}`);
    }
  }
  return results.broken.length ? 1 : 0;
}

Deno.exit(await main());
