// A free loopback port for a redirect URI, shared by the CLI's demo, the
// tests and the benchmarks; not part of the public API.
//
// Ports come from below the kernel's ephemeral range (Linux: 32768-60999;
// macOS, Windows: 49152 and up). Binding port 0 would hand out an ephemeral
// port, and the outgoing connections any process opens meanwhile take
// ephemeral ports too: one found free there can be taken again before the
// receiver listens on it.

const LOW = 20_000;
const HIGH = 32_767;

function canBind(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch (err) {
    // No IPv6 loopback on this machine: only 127.0.0.1 counts.
    if (hostname === "::1" && err instanceof Deno.errors.AddrNotAvailable) {
      return true;
    }
    if (err instanceof Deno.errors.AddrInUse) return false;
    throw err;
  }
}

/**
 * A random port below the ephemeral range that each of `hostnames` can bind
 * right now (`::1` is skipped where the machine has no IPv6 loopback).
 *
 * @param hostnames The addresses; default both loopbacks, as a
 *   `http://localhost:PORT` redirect URI needs.
 * @param range The ports to pick from, default 20000-32767 (the tests keep
 *   to a range of their own, so a CLI they run never picks one of theirs).
 * @returns The port.
 * @throws {Error} When 200 random ports were all taken.
 * @throws {Deno.errors.PermissionDenied} Without network permission.
 */
export function freeLoopbackPort(
  hostnames: readonly string[] = ["127.0.0.1", "::1"],
  range: { low: number; high: number } = { low: LOW, high: HIGH },
): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = range.low +
      Math.floor(Math.random() * (range.high - range.low + 1));
    if (hostnames.every((hostname) => canBind(hostname, port))) return port;
  }
  throw new Error(`no port free on ${hostnames.join(" and ")}`);
}
