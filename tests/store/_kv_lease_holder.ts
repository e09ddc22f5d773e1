// Test fixture: an instance that takes a session's refresh lease in a KV
// file and never finishes (it is killed while holding it).
//
//   deno run --unstable-kv --allow-read --allow-write _kv_lease_holder.ts PATH KEY LEASE_MS
import { KvSessionStore } from "../../src/store/kv_session_store.ts";

const [path, key, leaseMs] = Deno.args;
const store = new KvSessionStore({ path: path!, leaseMs: Number(leaseMs) });
await store.withLock(key!, async () => {
  await Deno.stdout.write(new TextEncoder().encode("held\n"));
  // A refresh that never ends (the interval keeps the process alive).
  await new Promise(() => setInterval(() => {}, 60_000));
});
