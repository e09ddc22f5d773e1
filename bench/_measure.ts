// deno-lint-ignore-file no-console
// Whole-process measurements for bench/run.ts: interleaved paired runs, wall
// time and peak memory, and the statistics printed from them.

/** A command to run as a whole process. */
export interface Cmd {
  /** Short label for tables. */
  label: string;
  /** Program and arguments. */
  argv: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Checks a finished run (exit code, stdout); throws when it went wrong. */
  verify?: (run: { code: number; stdout: string; stderr: string }) => void;
}

/** The percentile `p` (0..1) of `values`, linearly interpolated. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Median, p10 and p90. */
export interface Summary {
  median: number;
  p10: number;
  p90: number;
  n: number;
}

/** Summarises samples. */
export function summarize(values: readonly number[]): Summary {
  return {
    median: percentile(values, 0.5),
    p10: percentile(values, 0.1),
    p90: percentile(values, 0.9),
    n: values.length,
  };
}

/** Runs one process to completion; returns wall ms and its output. */
export async function runOnce(
  cmd: Cmd,
): Promise<{ ms: number; code: number; stdout: string; stderr: string }> {
  const [program, ...args] = cmd.argv;
  const command = new Deno.Command(program!, {
    args,
    ...(cmd.env ? { env: cmd.env } : {}),
    ...(cmd.cwd ? { cwd: cmd.cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const started = performance.now();
  const out = await command.output();
  const ms = performance.now() - started;
  const decoder = new TextDecoder();
  const run = {
    ms,
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  if (cmd.verify) cmd.verify(run);
  else if (run.code !== 0) {
    throw new Error(
      `${cmd.label} exited with ${run.code}: ${run.stderr.trim()}`,
    );
  }
  return run;
}

/** How peak memory is read. */
export type RssMethod = "getrusage" | "proc";

let timeBinary: string | null | undefined;

/** `/usr/bin/time` (GNU time) if present and working, else null. */
export async function gnuTime(): Promise<string | null> {
  if (timeBinary !== undefined) return timeBinary;
  timeBinary = null;
  for (const candidate of ["/usr/bin/time", "/bin/time"]) {
    try {
      const out = await new Deno.Command(candidate, {
        args: ["-f", "%M", "true"],
        stdout: "null",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stderr).trim();
      if (out.success && /^\d+$/.test(text.split("\n").pop() ?? "")) {
        timeBinary = candidate;
        break;
      }
    } catch {
      // not there
    }
  }
  return timeBinary;
}

/**
 * Runs one process and returns its peak resident memory in KiB (and, with
 * GNU time, its user + system CPU time in ms).
 *
 * With GNU time: `ru_maxrss` from wait4()/getrusage, exact (the kernel's own
 * high-water mark of the process). Without it: VmHWM from /proc/<pid>/status,
 * polled every millisecond while the process lives (may miss the last
 * millisecond's growth; said so in the output).
 */
export async function peakRss(
  cmd: Cmd,
): Promise<{ kib: number; method: RssMethod; cpuMs?: number }> {
  const time = await gnuTime();
  if (time) {
    const outFile = await Deno.makeTempFile({ prefix: "bench-rss-" });
    try {
      await runOnce({
        ...cmd,
        argv: [time, "-f", "%M %U %S", "-o", outFile, ...cmd.argv],
      });
      const last = (await Deno.readTextFile(outFile)).trim().split("\n").pop();
      const [kib, user, sys] = (last ?? "").split(" ").map(Number);
      if (!kib || !Number.isFinite(kib) || kib <= 0) {
        throw new Error(`GNU time wrote no peak RSS for ${cmd.label}`);
      }
      // User + system CPU (10 ms resolution): hardly moved by other load.
      const cpuMs = ((user ?? NaN) + (sys ?? NaN)) * 1000;
      return {
        kib,
        method: "getrusage",
        ...(Number.isFinite(cpuMs) ? { cpuMs } : {}),
      };
    } finally {
      await Deno.remove(outFile).catch(() => {});
    }
  }
  const [program, ...args] = cmd.argv;
  const child = new Deno.Command(program!, {
    args,
    ...(cmd.env ? { env: cmd.env } : {}),
    ...(cmd.cwd ? { cwd: cmd.cwd } : {}),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let peak = 0;
  let done = false;
  const status = child.status.then((s) => {
    done = true;
    return s;
  });
  while (!done) {
    try {
      const text = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const m = /VmHWM:\s+(\d+)/.exec(text);
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // exited
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const s = await status;
  if (!s.success) throw new Error(`${cmd.label} exited with ${s.code}`);
  return { kib: peak, method: "proc" };
}

/** The result of an interleaved comparison. */
export interface Paired {
  a: Summary;
  b: Summary;
  /** Per-pair ratios a/b. */
  ratio: Summary;
}

/**
 * Runs `a` and `b` alternately, `runs` times each, after `warmup` unmeasured
 * runs of each. Pair i runs a then b when i is even, b then a when odd, so
 * neither always goes first. Returns the samples' summaries and the per-pair
 * ratios a/b.
 */
export async function interleave(
  a: () => Promise<number>,
  b: () => Promise<number>,
  runs: number,
  warmup: number,
): Promise<Paired & { as: number[]; bs: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  return {
    as,
    bs,
    a: summarize(as),
    b: summarize(bs),
    ratio: summarize(as.map((x, i) => x / bs[i]!)),
  };
}

/** `12.3 ms (p10–p90 11.9–13.0)`. */
export function fmtMs(s: Summary): string {
  return `${s.median.toFixed(1)} ms (p10–p90 ${s.p10.toFixed(1)}–${
    s.p90.toFixed(1)
  })`;
}

/** `31.2 MiB (p10–p90 30.9–31.4)`. */
export function fmtMiB(s: Summary): string {
  const m = (k: number) => (k / 1024).toFixed(1);
  return `${m(s.median)} MiB (p10–p90 ${m(s.p10)}–${m(s.p90)})`;
}

/** `1.08× (p10–p90 1.03–1.13)`. */
export function fmtRatio(s: Summary): string {
  return `${s.median.toFixed(3)}× (p10–p90 ${s.p10.toFixed(2)}–${
    s.p90.toFixed(2)
  })`;
}

/** Prints a line to stdout. */
export function say(text = ""): void {
  console.log(text);
}
