// The core's hot functions: `deno bench bench/core_bench.ts` (bench/run.ts
// runs it and prints the summary). Pure core only: no network, no files.
import {
  calculateCodeChallenge,
  generateCodeVerifier,
  lookerServer,
  parseCallback,
  startAuthorization,
} from "../src/core/mod.ts";

const server = lookerServer({
  lookerUrl: "https://example.looker.com",
  apiUrl: "https://example.looker.com:19999",
});
const request = {
  clientId: "bench-cli",
  redirectUri: "http://localhost:8080/callback",
};
const pending = await startAuthorization(server, request);
// Looker's shape: a leading "&" in the query.
const callback = `http://localhost:8080/callback?&code=${
  "c".repeat(32)
}&state=${pending.state}`;

Deno.bench({
  name: "generateCodeVerifier + calculateCodeChallenge (PKCE S256)",
  group: "core",
  baseline: true,
  async fn() {
    await calculateCodeChallenge(generateCodeVerifier());
  },
});

Deno.bench({
  name: "startAuthorization (Looker: URL, state, verifier, challenge)",
  group: "core",
  async fn() {
    await startAuthorization(server, request);
  },
});

Deno.bench({
  name: "parseCallback (Looker callback, state checked)",
  group: "core",
  fn() {
    parseCallback(server, callback, { state: pending.state });
  },
});
