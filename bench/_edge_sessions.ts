// deno-lint-ignore-file no-console
// Memory per 10,000 live sessions, for bench/_edge.ts. Run with
// --v8-flags=--expose-gc; prints one JSON line:
// { memoryBytes, kvFileBytes, sessions }.
//
// Records are shaped as the helpers store them: the key a 43-character
// SHA-256 digest, Looker-sized tokens (a 40-character access token and
// refresh token, bearer, cors_api), creation and expiry times. Each string
// is made fresh, as it would be when parsed from a token response.
import { MemorySessionStore, type SessionRecord } from "../src/server/mod.ts";
import { KvSessionStore } from "../src/store/kv_session_store.ts";

const SESSIONS = 10_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

function random(chars: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(chars));
  return Array.from(
    bytes,
    (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36],
  )
    .join("");
}

function session(now: number): [string, SessionRecord] {
  return [
    random(43),
    {
      tokens: {
        accessToken: random(40),
        tokenType: "bearer".slice(0),
        expiresAt: now + 3600_000,
        refreshToken: random(40),
        scope: "cors_api".slice(0),
      },
      createdAt: now,
      expiresAt: now + 7 * 24 * 3600_000,
    },
  ];
}

// Warm up the code paths (and their compiled code) before the baseline.
const warm = new MemorySessionStore();
for (let i = 0; i < 100; i++) await warm.set(...session(Date.now()));
gc();
gc();
const before = Deno.memoryUsage().heapUsed;
const store = new MemorySessionStore();
const now = Date.now();
for (let i = 0; i < SESSIONS; i++) await store.set(...session(now));
gc();
gc();
const memoryBytes = Deno.memoryUsage().heapUsed - before;
if (store.size !== SESSIONS) throw new Error("the store lost sessions");

const dir = await Deno.makeTempDir({ prefix: "edge_sessions_" });
try {
  const path = `${dir}/sessions.sqlite`;
  await using kv = new KvSessionStore({ path });
  for (let i = 0; i < SESSIONS; i++) await kv.set(...session(now));
  await kv.close();
  let kvFileBytes = 0;
  for (const entry of Deno.readDirSync(dir)) {
    kvFileBytes += Deno.statSync(`${dir}/${entry.name}`).size;
  }
  console.log(JSON.stringify({ memoryBytes, kvFileBytes, sessions: SESSIONS }));
} finally {
  await Deno.remove(dir, { recursive: true });
}
