/**
 * Test helper: loopback ports for redirect URIs and "nothing listens here".
 *
 * @module
 */

// Ports handed out here come from below the kernel's ephemeral range
// (Linux: 32768-60999; macOS, Windows: 49152 and up). Tests running in
// parallel bind port 0 and open client connections, which take ephemeral
// ports: a port found free there can be taken again before the test uses it.
const LOW = 20_000;
const HIGH = 32_767;

function randomPort(): number {
  return LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
}

function canBind(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch (err) {
    // No IPv6 loopback here: only 127.0.0.1 counts.
    if (hostname === "::1" && err instanceof Deno.errors.AddrNotAvailable) {
      return true;
    }
    if (err instanceof Deno.errors.AddrInUse) return false;
    throw err;
  }
}

/** A random port below the ephemeral range that every one of `hostnames` can bind. */
function unusedPort(hostnames: readonly string[]): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomPort();
    if (hostnames.every((hostname) => canBind(hostname, port))) return port;
  }
  throw new Error(`no port free on ${hostnames.join(" and ")}`);
}

/** A port free on both 127.0.0.1 and ::1 right now (for a localhost redirect). */
export function freePort(): number {
  return unusedPort(["127.0.0.1", "::1"]);
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function closedPort(): number {
  return unusedPort(["127.0.0.1"]);
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
