// The smallest useful slice of the core for a browser app: the Looker sign-in
// alone (authorization URL, callback, code exchange), no refresh, no session.
// bench/run.ts bundles it as a reference next to the whole core.
export {
  exchangeCode,
  lookerServer,
  parseCallback,
  startAuthorization,
} from "../src/core/mod.ts";
