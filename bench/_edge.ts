// The edge load benchmark for bench/run.ts: requests per second of a
// signed-in route of the server helpers (cookie read, session lookup, a
// cached valid token, a small response) against a bare Deno.serve route
// answering the same bytes, both driven by wrk on loopback. Rounds alternate
// bare, memory, kv (and the order rotates); each round gives one ratio per
// store. Also memory per 10,000 live sessions (bench/_edge_sessions.ts).
import { summarize, type Summary } from "./_measure.ts";
import { ROOT } from "./_sections.ts";

/** How the load runs: seconds per wrk run, rounds, connections. */
export interface EdgePlan {
  seconds: number;
  rounds: number;
  connections: number;
}

/** One wrk run's figures. */
export interface WrkRun {
  rps: number;
  p99Ms: number;
  requests: number;
  /** Server CPU time per request, in µs (Linux; NaN elsewhere). */
  cpuUs: number;
}

/** What the edge benchmark measured. */
export interface EdgeFigures {
  command: string;
  plan: EdgePlan;
  bare: { rps: Summary; p99Ms: Summary; cpuUs: Summary };
  memory: {
    rps: Summary;
    p99Ms: Summary;
    cpuUs: Summary;
    ratio: Summary;
    cpuRatio: Summary;
  };
  kv: {
    rps: Summary;
    p99Ms: Summary;
    cpuUs: Summary;
    ratio: Summary;
    cpuRatio: Summary;
  };
  kvCache: {
    rps: Summary;
    p99Ms: Summary;
    cpuUs: Summary;
    ratio: Summary;
    cpuRatio: Summary;
  };
  sessions: { count: number; memoryBytes: number; kvFileBytes: number };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** Parses wrk's `--latency` output. */
export function parseWrk(output: string): Omit<WrkRun, "cpuUs"> {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const requests = /^\s*(\d+) requests in /m.exec(output);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\b/m.exec(output);
  if (!rps || !p99 || !requests) {
    throw new Error(`unexpected wrk output:\n${output}`);
  }
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (errors) {
    throw new Error(`wrk saw ${errors[1]} error responses:\n${output}`);
  }
  const socket = /Socket errors: (.*)/.exec(output);
  if (socket && /(?:connect|read|write|timeout) [1-9]/.test(socket[1]!)) {
    throw new Error(`wrk saw socket errors: ${socket[1]}`);
  }
  return {
    rps: Number(rps[1]),
    p99Ms: Number(p99[1]) * UNIT_MS[p99[2]!]!,
    requests: Number(requests[1]),
  };
}

/** CPU time (user + system) of a process so far, in ms; NaN off Linux. */
async function cpuMs(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start at ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // 100 ticks/s
  } catch {
    return NaN;
  }
}

async function wrk(
  url: string,
  cookie: string | undefined,
  plan: EdgePlan,
  serverPid: number,
): Promise<WrkRun> {
  const cpuBefore = await cpuMs(serverPid);
  const args = [
    "-t1",
    `-c${plan.connections}`,
    `-d${plan.seconds}s`,
    "--timeout",
    "5s",
    "--latency",
    ...(cookie ? ["-H", `Cookie: ${cookie}`] : []),
    `${url}/`,
  ];
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("wrk", {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        "wrk is not installed: apt-get install -y wrk (.ci/run installs it)",
      );
    }
    throw err;
  }
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `wrk failed: ${new TextDecoder().decode(out.stderr)}${text}`,
    );
  }
  const run = parseWrk(text);
  const cpu = (await cpuMs(serverPid)) - cpuBefore;
  return { ...run, cpuUs: (cpu * 1000) / run.requests };
}

interface Targets {
  bare: string;
  memory: { url: string; cookie: string };
  kv: { url: string; cookie: string };
  kvCache: { url: string; cookie: string };
}

/** Runs the load benchmark and the sessions' memory figure. */
export async function benchEdge(plan: EdgePlan): Promise<EdgeFigures> {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "bench/_edge_server.ts"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let line = "";
    const deadline = AbortSignal.timeout(60_000);
    while (!line.includes("\n") && !deadline.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      line += value;
    }
    reader.releaseLock();
    if (!line.includes("\n")) throw new Error("the edge servers did not start");
    const targets: Targets = JSON.parse(line);

    // Warm-up (JIT, connection setup), not measured.
    const warm = { ...plan, seconds: 1 };
    const pid = server.pid;
    await wrk(targets.bare, undefined, warm, pid);
    await wrk(targets.memory.url, targets.memory.cookie, warm, pid);
    await wrk(targets.kv.url, targets.kv.cookie, warm, pid);
    await wrk(targets.kvCache.url, targets.kvCache.cookie, warm, pid);

    const runs = {
      bare: [] as WrkRun[],
      memory: [] as WrkRun[],
      kv: [] as WrkRun[],
      kvCache: [] as WrkRun[],
    };
    const order = ["bare", "memory", "kv", "kvCache"] as const;
    for (let round = 0; round < plan.rounds; round++) {
      for (let i = 0; i < order.length; i++) {
        const which = order[(i + round) % order.length]!;
        runs[which].push(
          which === "bare"
            ? await wrk(targets.bare, undefined, plan, pid)
            : await wrk(targets[which].url, targets[which].cookie, plan, pid),
        );
      }
    }
    const ratios = (name: "memory" | "kv" | "kvCache") => ({
      ratio: summarize(runs[name].map((r, i) => r.rps / runs.bare[i]!.rps)),
      // Requests per CPU second, signed-in ÷ bare: what the throughput ratio
      // is on a machine with nothing else running.
      cpuRatio: summarize(
        runs[name].map((r, i) => runs.bare[i]!.cpuUs / r.cpuUs),
      ),
    });
    const of = (name: keyof typeof runs) => ({
      rps: summarize(runs[name].map((r) => r.rps)),
      p99Ms: summarize(runs[name].map((r) => r.p99Ms)),
      cpuUs: summarize(runs[name].map((r) => r.cpuUs)),
    });
    return {
      command:
        `wrk -t1 -c${plan.connections} -d${plan.seconds}s --latency [-H "Cookie: looker_oauth_session=..."] http://127.0.0.1:PORT/`,
      plan,
      bare: of("bare"),
      memory: { ...of("memory"), ...ratios("memory") },
      kv: { ...of("kv"), ...ratios("kv") },
      kvCache: { ...of("kvCache"), ...ratios("kvCache") },
      sessions: await sessionMemory(),
    };
  } finally {
    try {
      server.kill("SIGTERM");
    } catch {
      // gone
    }
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
}

async function sessionMemory(): Promise<EdgeFigures["sessions"]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", "bench/_edge_sessions.ts"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("bench/_edge_sessions.ts failed");
  const figures = JSON.parse(new TextDecoder().decode(out.stdout));
  return {
    count: figures.sessions,
    memoryBytes: figures.memoryBytes,
    kvFileBytes: figures.kvFileBytes,
  };
}
