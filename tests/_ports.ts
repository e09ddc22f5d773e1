/**
 * Test helper: loopback ports for redirect URIs and "nothing listens here".
 *
 * @module
 */
import { freeLoopbackPort } from "../src/loopback/free_port.ts";

/** A port free on both 127.0.0.1 and ::1 right now (for a localhost redirect). */
export function freePort(): number {
  return freeLoopbackPort(["127.0.0.1", "::1"]);
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function closedPort(): number {
  return freeLoopbackPort(["127.0.0.1"]);
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
