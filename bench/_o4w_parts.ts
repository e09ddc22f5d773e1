// Exactly the oauth4webapi exports src/core uses (values; its types cost no
// bytes). bench/run.ts bundles this file like the core, to show what the core
// adds on top of oauth4webapi. Keep in sync: run.ts checks the list against
// the `oauth.<name>` uses it finds in src/core.
export {
  allowInsecureRequests,
  AuthorizationResponseError,
  calculatePKCECodeChallenge,
  customFetch,
  discoveryRequest,
  generateRandomCodeVerifier,
  generateRandomState,
  genericTokenEndpointRequest,
  HTTP_REQUEST_FORBIDDEN,
  JWT_CLAIM_COMPARISON,
  None,
  OperationProcessingError,
  PARSE_ERROR,
  processAuthorizationCodeResponse,
  processDiscoveryResponse,
  processRefreshTokenResponse,
  refreshTokenGrantRequest,
  RESPONSE_IS_NOT_JSON,
  revocationRequest,
  validateAuthResponse,
} from "oauth4webapi";
