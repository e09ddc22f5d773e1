// bench/run.ts's `api` section: `looker-oauth api /user` with a valid token
// against bench/_minimal_api.ts (read the token file, one fetch), and, for
// the record, `looker-oauth token` beside `gh auth token` (Debian's gh, Go).
import { compilePermissions } from "../.ci/release.ts";
import { freeLoopbackPort } from "../src/loopback/free_port.ts";
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
import {
  benchLooker,
  cliLoginArgv,
  loginProcess,
  type Plan,
  ROOT,
} from "./_sections.ts";

const DENO = Deno.execPath();

/** One comparison: wall time, peak RSS and CPU of A and B, ratios A ÷ B. */
export interface Versus {
  time: { a: Summary; b: Summary; ratio: Summary };
  memory: { a: Summary; b: Summary; ratio: Summary };
  /** User + system CPU ms (GNU time), when measured. */
  cpu?: { a: Summary; b: Summary; ratio: Summary };
}

export interface ApiFigures {
  command: string;
  baseline: string;
  api: Versus;
  /** `looker-oauth token` (A) vs `gh auth token` (B); absent without gh. */
  gh?: Versus;
  ghVersion?: string;
  rssMethod: RssMethod;
}

async function versus(
  a: Cmd,
  b: Cmd,
  timePairs: number,
  memPairs: number,
): Promise<{ figures: Versus; method: RssMethod }> {
  const time = await interleave(
    async () => (await runOnce(a)).ms,
    async () => (await runOnce(b)).ms,
    timePairs,
    2,
  );
  say(
    `  wall time, ${timePairs} pairs: ${a.label} ${fmtMs(time.a)}, ${b.label} ${
      fmtMs(time.b)
    }`,
  );
  say(`    ratio per pair: ${fmtRatio(time.ratio)}`);
  let method: RssMethod = "getrusage";
  const cpuA: number[] = [];
  const cpuB: number[] = [];
  const memory = await interleave(
    async () => {
      const r = await peakRss(a);
      method = r.method;
      if (r.cpuMs !== undefined) cpuA.push(r.cpuMs);
      return r.kib;
    },
    async () => {
      const r = await peakRss(b);
      if (r.cpuMs !== undefined) cpuB.push(r.cpuMs);
      return r.kib;
    },
    memPairs,
    0,
  );
  say(
    `  peak RSS, ${memPairs} pairs: ${a.label} ${
      fmtMiB(memory.a)
    }, ${b.label} ${fmtMiB(memory.b)}`,
  );
  say(`    ratio per pair: ${fmtRatio(memory.ratio)}`);
  const figures: Versus = {
    time: { a: time.a, b: time.b, ratio: time.ratio },
    memory: { a: memory.a, b: memory.b, ratio: memory.ratio },
  };
  if (cpuA.length === memPairs && cpuB.length === memPairs) {
    // Pairs with a zero CPU reading (10 ms ticks) give no ratio.
    const ratios = cpuA.map((x, i) => x / cpuB[i]!).filter(Number.isFinite);
    figures.cpu = {
      a: summarize(cpuA),
      b: summarize(cpuB),
      ratio: summarize(ratios),
    };
    say(
      `  CPU user+sys: ${a.label} ${fmtMs(figures.cpu.a)}, ${b.label} ${
        fmtMs(figures.cpu.b)
      }`,
    );
  }
  return { figures, method };
}

async function ghVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("gh", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    return new TextDecoder().decode(out.stdout).split("\n")[0]?.trim();
  } catch {
    return undefined;
  }
}

/**
 * Signs in once (a `login` process against the Looker emulator, access
 * tokens valid a day), then runs `api /user` and bench/_minimal_api.ts
 * interleaved; every run must print the signed-in user, and the emulator
 * must see no refresh.
 */
export async function benchApi(plan: Plan): Promise<ApiFigures> {
  const perms = await compilePermissions();
  const port = freeLoopbackPort(["127.0.0.1"]);
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const clientId = "bench-api";
  await using looker = await benchLooker(clientId, redirectUri, 86_400);
  const home = await Deno.makeTempDir({ prefix: "looker-oauth-bench-" });
  try {
    const env = { NO_COLOR: "1", BROWSER: "true", LOOKER_OAUTH_HOME: home };
    await loginProcess(
      cliLoginArgv(perms, looker, clientId, redirectUri),
      env,
    );
    const tokenFile = `${home}/tokens/default.json`;
    const accessToken = JSON.parse(await Deno.readTextFile(tokenFile))?.tokens
      ?.accessToken;
    if (typeof accessToken !== "string") {
      throw new Error(`${tokenFile} holds no access token`);
    }
    const isUser =
      (label: string) =>
      (run: { code: number; stdout: string; stderr: string }) => {
        let email: unknown;
        try {
          email = JSON.parse(run.stdout)?.email;
        } catch {
          // not JSON
        }
        if (
          run.code !== 0 || email !== "ada@example.com" || run.stderr !== ""
        ) {
          throw new Error(
            `${label}: exit ${run.code}, stdout ${
              JSON.stringify(run.stdout.slice(0, 200))
            }, stderr ${run.stderr.trim()}`,
          );
        }
      };
    const api: Cmd = {
      label: "api",
      argv: [DENO, "run", ...perms, "cli.ts", "api", "/user"],
      cwd: ROOT,
      env,
      verify: isUser("looker-oauth api /user"),
    };
    const minimal: Cmd = {
      label: "minimal",
      argv: [
        DENO,
        "run",
        ...perms,
        "bench/_minimal_api.ts",
        tokenFile,
        `${looker.apiUrl}/api/4.0/user`,
      ],
      cwd: ROOT,
      env,
      verify: isUser("bench/_minimal_api.ts"),
    };
    const command = `deno run ${perms.join(" ")} cli.ts api /user`;
    const baseline = `deno run ${
      perms.join(" ")
    } bench/_minimal_api.ts TOKEN_FILE API_URL/api/4.0/user`;
    say(`  A: ${command}   (signed in to the Looker emulator, token valid)`);
    say(`  B: ${baseline}`);
    const refreshes = looker.stats.refreshes;
    const calls = looker.stats.apiCalls;
    const { figures, method } = await versus(
      api,
      minimal,
      plan.apiTimePairs,
      plan.apiMemPairs,
    );
    const expected = 2 * (plan.apiTimePairs + 2 + plan.apiMemPairs);
    if (looker.stats.apiCalls - calls !== expected) {
      throw new Error(
        `expected ${expected} API calls, the emulator saw ${
          looker.stats.apiCalls - calls
        }`,
      );
    }
    if (looker.stats.refreshes !== refreshes) {
      throw new Error("a run refreshed the token: the token was not valid");
    }
    const result: ApiFigures = {
      command,
      baseline,
      api: figures,
      rssMethod: method,
    };

    const gh = await ghVersion();
    if (gh === undefined) {
      say("  gh auth token: (gh not installed)");
      return result;
    }
    result.ghVersion = gh;
    const ghToken = `gho_bench${crypto.randomUUID().replaceAll("-", "")}`;
    const printed =
      (label: string, token: string) =>
      (run: { code: number; stdout: string }) => {
        if (run.code !== 0 || run.stdout !== `${token}\n`) {
          throw new Error(
            `${label}: exit ${run.code}, stdout ${JSON.stringify(run.stdout)}`,
          );
        }
      };
    say(`  for the record: looker-oauth token vs gh auth token (${gh})`);
    const { figures: ghFigures } = await versus(
      {
        label: "token",
        argv: [DENO, "run", ...perms, "cli.ts", "token"],
        cwd: ROOT,
        env,
        verify: printed("looker-oauth token", accessToken),
      },
      {
        label: "gh",
        argv: ["gh", "auth", "token"],
        env: { GH_TOKEN: ghToken, GH_CONFIG_DIR: `${home}/gh` },
        verify: printed("gh auth token", ghToken),
      },
      plan.apiTimePairs,
      plan.apiMemPairs,
    );
    result.gh = ghFigures;
    return result;
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}
