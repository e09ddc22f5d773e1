/**
 * Test helper: loopback ports for redirect URIs and "nothing listens here".
 *
 * @module
 */

/** A port free on both 127.0.0.1 and ::1 right now (for a localhost redirect). */
export function freePort(): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const v4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (v4.addr as Deno.NetAddr).port;
    try {
      Deno.listen({ hostname: "::1", port }).close();
      return port;
    } catch (err) {
      if (err instanceof Deno.errors.AddrNotAvailable) return port;
    } finally {
      v4.close();
    }
  }
  throw new Error("no port free on both 127.0.0.1 and ::1");
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
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
