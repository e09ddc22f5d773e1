// The servers bench/_edge.ts drives with wrk, in one process on 127.0.0.1:
//
// - bare:   Deno.serve answering BODY;
// - memory: the server helpers with MemorySessionStore: cookie read, session
//           lookup, a cached valid access token, then the same BODY;
// - kv:     the same on KvSessionStore (a temp file);
// - kvCache: KvSessionStore with a 1 s read cache (cacheMs: 1000).
//
// It signs in once per store through the helpers against the Looker emulator
// (auto-approving), then prints one JSON line: the three URLs and the session
// cookies. It runs until killed.
import { lookerServer } from "../src/core/mod.ts";
import { startLookerEmulator } from "../src/emulator/looker_emulator.ts";
import {
  type AuthHelpers,
  createAuthHelpers,
  MemorySessionStore,
  type SessionStore,
} from "../src/server/mod.ts";
import { KvSessionStore } from "../src/store/kv_session_store.ts";

const BODY = new TextEncoder().encode('{"ok":true,"user":"signed in"}\n');
const HEADERS = { "content-type": "application/json" };
const SECRET = "benchmark cookie secret, 32 bytes or more";

const looker = await startLookerEmulator({ autoApprove: true });
const kvDir = await Deno.makeTempDir({ prefix: "edge_bench_" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(kvDir, { recursive: true });
  } catch {
    // gone already
  }
});

const bare = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () => new Response(BODY, { headers: HEADERS }),
);

async function signedIn(
  name: string,
  store: SessionStore,
): Promise<{ url: string; cookie: string }> {
  const holder: { auth?: AuthHelpers } = {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const auth = holder.auth!;
      // Routing by string, not by parsing a URL: the bare route has none,
      // and the figure is the helpers' own cost.
      const url = request.url;
      const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
      const pathname = path.split("?")[0];
      if (pathname === "/signin") return await auth.signIn(request);
      if (pathname === "/callback") return await auth.handleCallback(request);
      const session = await auth.getSession(request);
      if (!session) return new Response("signed out", { status: 401 });
      await session.getAccessToken(); // valid: no refresh, no upstream call
      return new Response(BODY, { headers: HEADERS });
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  looker.registerApp({
    client_guid: `bench-${name}`,
    redirect_uri: `${url}/callback`,
    display_name: `Benchmark (${name})`,
    description: "Load benchmark of the server helpers.",
    enabled: true,
  });
  holder.auth = createAuthHelpers({
    server: lookerServer({
      lookerUrl: looker.lookerUrl,
      apiUrl: looker.apiUrl,
    }),
    clientId: `bench-${name}`,
    redirectUri: `${url}/callback`,
    cookieSecret: SECRET,
    store,
  });
  // Sign in: /signin -> Looker /auth -> /callback, keeping the cookies.
  const signin = await fetch(`${url}/signin`, { redirect: "manual" });
  await signin.body?.cancel();
  const pending = signin.headers.getSetCookie()[0]!.split(";")[0]!;
  const auth = await fetch(signin.headers.get("location")!, {
    redirect: "manual",
  });
  await auth.body?.cancel();
  const callback = await fetch(auth.headers.get("location")!, {
    redirect: "manual",
    headers: { cookie: pending },
  });
  await callback.body?.cancel();
  const cookie = callback.headers.getSetCookie()
    .find((c) => c.startsWith("looker_oauth_session="))!.split(";")[0]!;
  const check = await fetch(url, { headers: { cookie } });
  if (check.status !== 200) throw new Error(`${name}: not signed in`);
  await check.body?.cancel();
  return { url, cookie };
}

const memory = await signedIn("memory", new MemorySessionStore());
const kv = await signedIn(
  "kv",
  new KvSessionStore({ path: `${kvDir}/sessions.sqlite` }),
);
const kvCache = await signedIn(
  "kv-cache",
  new KvSessionStore({ path: `${kvDir}/cached.sqlite`, cacheMs: 1000 }),
);
await Deno.stdout.write(
  new TextEncoder().encode(
    JSON.stringify({
      bare: `http://127.0.0.1:${bare.addr.port}`,
      memory,
      kv,
      kvCache,
    }) + "\n",
  ),
);
