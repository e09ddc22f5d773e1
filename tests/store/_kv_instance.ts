// Test fixture: one instance of an app on the server helpers with sessions in
// a KV file, on 127.0.0.1. Prints "ready" once it listens.
//
//   deno run --unstable-kv -A _kv_instance.ts PORT CONFIG_JSON
//
// CONFIG_JSON: { lookerUrl, apiUrl, clientId, redirectUri, secret, kvPath,
// leaseMs }.
import { lookerServer } from "../../src/core/mod.ts";
import { createAuthHelpers } from "../../src/server/mod.ts";
import { KvSessionStore } from "../../src/store/kv_session_store.ts";
import { appHandler } from "../server/_app.ts";

const [port, json] = Deno.args;
const config = JSON.parse(json!);
const auth = createAuthHelpers({
  server: lookerServer({ lookerUrl: config.lookerUrl, apiUrl: config.apiUrl }),
  clientId: config.clientId,
  redirectUri: config.redirectUri,
  cookieSecret: config.secret,
  store: new KvSessionStore({
    path: config.kvPath,
    leaseMs: config.leaseMs,
    pollMs: 10,
  }),
});
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  onListen: () => {
    Deno.stdout.write(new TextEncoder().encode("ready\n"));
  },
}, appHandler(auth));
