// Private glue between this library's types and oauth4webapi's.
import * as oauth from "oauth4webapi";
import type { AuthServer } from "./server.ts";
import type { HttpOptions } from "./http_options.ts";
import { boundedFetch, isPlainHttpAllowed } from "./transport.ts";

/** oauth4webapi's view of a server. */
export function toAs(server: AuthServer): oauth.AuthorizationServer {
  return server.metadata as unknown as oauth.AuthorizationServer;
}

/** oauth4webapi's view of a public client: no secret, `client_id` in the body. */
export function toClient(clientId: string): oauth.Client {
  return { client_id: clientId, token_endpoint_auth_method: "none" };
}

/** The fetch oauth4webapi calls: ours, bounded. */
type O4wFetch = <M, B>(
  url: string,
  options: oauth.CustomFetchOptions<M, B>,
) => Promise<Response>;

/** Transport options for any oauth4webapi request. */
export interface Transport {
  [oauth.customFetch]: O4wFetch;
  [oauth.allowInsecureRequests]: boolean;
}

/**
 * Transport options for oauth4webapi: our bounded fetch, and `http:` allowed
 * where this library's policy (already enforced) allows it. With `json`, the
 * form body oauth4webapi builds is sent as a JSON object instead (Looker
 * takes both; its browser examples send JSON).
 */
export function transport(
  endpoint: string | URL,
  http: HttpOptions,
  allowInsecureHttp = false,
  json = false,
): Transport {
  const send = boundedFetch(http);
  return {
    [oauth.customFetch]: (url, options) => {
      let init = options as RequestInit;
      if (json && init.body instanceof URLSearchParams) {
        const headers = new Headers(init.headers);
        headers.set("content-type", "application/json");
        init = {
          ...init,
          headers,
          body: JSON.stringify(Object.fromEntries(init.body)),
        };
      }
      return send(url, init);
    },
    [oauth.allowInsecureRequests]: insecureAllowed(endpoint, allowInsecureHttp),
  };
}

function insecureAllowed(
  endpoint: string | URL,
  allowInsecureHttp: boolean,
): boolean {
  try {
    return isPlainHttpAllowed(new URL(endpoint), allowInsecureHttp);
  } catch {
    return false;
  }
}
