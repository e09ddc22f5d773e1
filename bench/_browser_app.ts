// What a browser app signing in to Looker imports from the core (the example
// in src/core/mod.ts, plus a session): bench/run.ts bundles it as a reference
// next to the whole core.
export {
  exchangeCode,
  lookerServer,
  MemoryTokenStore,
  parseCallback,
  startAuthorization,
  TokenSession,
} from "../src/core/mod.ts";
