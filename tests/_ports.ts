/**
 * Test helper: loopback ports for redirect URIs and "nothing listens here".
 *
 * @module
 */
import { freeLoopbackPort } from "../src/loopback/free_port.ts";

/** A port free on both 127.0.0.1 and ::1 right now (for a localhost redirect). */
export function freePort(): number {
  return reserved(["127.0.0.1", "::1"]);
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function closedPort(): number {
  return reserved(["127.0.0.1"]);
}

// A port is free when picked, not when bound: `deno test --parallel` runs the
// test files side by side (in one process, so no pid or module state tells
// them apart), and another file could pick the same port between this pick
// and the bind, or bind it before a test's assertPortFree(). So each pick is
// also claimed with an exclusively created file named after the port, shared
// by every test on the machine; a claim older than RESERVE_MS lapses.
const RESERVE_DIR = `${
  Deno.env.get("TMPDIR") ?? "/tmp"
}/looker-oauth-test-ports`;
const RESERVE_MS = 120_000;
// The tests' own range, apart from the one the CLI's demo and the benchmarks
// pick from (20000-32767): a `demo` a test runs picks its port unclaimed.
const TEST_PORTS = { low: 10_000, high: 19_999 };

function reserved(hostnames: readonly string[]): number {
  Deno.mkdirSync(RESERVE_DIR, { recursive: true });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = freeLoopbackPort(hostnames, TEST_PORTS);
    const claim = `${RESERVE_DIR}/${port}`;
    try {
      Deno.openSync(claim, { write: true, createNew: true }).close();
      return port;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    let mtime = Date.now();
    try {
      mtime = Deno.lstatSync(claim).mtime?.getTime() ?? 0;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err; // just freed
    }
    if (Date.now() - mtime > RESERVE_MS) {
      // A lapsed claim: move it aside (only one mover finds it there), then
      // claim the port afresh on the next attempt's exclusive create.
      const aside = `${claim}.${crypto.randomUUID()}`;
      try {
        Deno.renameSync(claim, aside);
        Deno.removeSync(aside);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }
  throw new Error(`no unclaimed port free on ${hostnames.join(" and ")}`);
}

/** Whether this machine has IPv6 loopback. */
export const HAS_IPV6: boolean = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
})();

/**
 * Asserts nothing listens on `port` any more: each of `hostnames` can bind
 * it. Default: both loopbacks (127.0.0.1 alone where there is no IPv6).
 */
export function assertPortFree(
  port: number,
  hostnames: readonly string[] = HAS_IPV6
    ? ["127.0.0.1", "::1"]
    : ["127.0.0.1"],
): void {
  for (const hostname of hostnames) {
    Deno.listen({ hostname, port }).close();
  }
}
