/**
 * Registering an OAuth client app with Looker
 * (`register_oauth_client_app`), authenticated by an API3 key.
 *
 * @module
 */
import type { HttpOptions } from "../core/http_options.ts";
import { OAuthError } from "../core/errors.ts";
import {
  bearerHeader,
  boundedFetch,
  isTokenText,
  lookerApiBase,
} from "../core/transport.ts";
import { lookerApiError } from "./api_error.ts";

/** An OAuth client app as Looker stores it. */
export interface LookerOAuthApp {
  /** The client id the app signs in with. */
  readonly client_guid: string;
  /** The one redirect URI Looker accepts for it, character for character. */
  readonly redirect_uri: string;
  /** The name people see on the consent page. */
  readonly display_name: string;
  /** What the app does with their account, shown on the consent page. */
  readonly description: string;
  /** Whether sign-ins are allowed. */
  readonly enabled: boolean;
  /** Every other field Looker returned. */
  readonly [field: string]: unknown;
}

/** What {@linkcode registerLookerApp} needs. */
export interface LookerAppRegistration extends HttpOptions {
  /** The API URL, e.g. `https://example.looker.com:19999`. */
  apiUrl: string;
  /** An API3 client id (`LOOKERSDK_CLIENT_ID`). */
  apiClientId: string;
  /** An API3 client secret (`LOOKERSDK_CLIENT_SECRET`). */
  apiClientSecret: string;
  /** The app's client id (`client_guid`). */
  clientGuid: string;
  /** The redirect URI, e.g. `http://localhost:8080/callback`. */
  redirectUri: string;
  /** Shown on the consent page. Default: the client guid. */
  displayName?: string;
  /** Shown on the consent page. */
  description?: string;
  /** Default `true`. */
  enabled?: boolean;
}

/** What {@linkcode registerLookerApp} did. */
export interface LookerAppRegistrationResult {
  /** `created`, `updated` (it existed and differed) or `unchanged`. */
  readonly action: "created" | "updated" | "unchanged";
  /** The app as Looker now stores it. */
  readonly app: LookerOAuthApp;
}

/**
 * Creates the app, or updates it when it exists and differs: logs in with
 * the API3 key (`POST /api/4.0/login`), reads the app, then `POST`s or
 * `PATCH`es `/api/4.0/oauth_client_apps/{client_guid}`, and logs out.
 *
 * @param registration The API3 key and the app.
 * @returns What was done, and the app.
 * @throws {LookerApiError} When Looker refuses (`not_found` from the login
 *   means a wrong API3 key).
 * @throws {OAuthError} Transport errors; `invalid_response` when the API3
 *   login gives no usable access token.
 *
 * @example
 * ```ts ignore
 * import { registerLookerApp } from "@looker-oauth/pkce";
 *
 * const { action } = await registerLookerApp({
 *   apiUrl: "https://example.looker.com:19999",
 *   apiClientId: Deno.env.get("LOOKERSDK_CLIENT_ID")!,
 *   apiClientSecret: Deno.env.get("LOOKERSDK_CLIENT_SECRET")!,
 *   clientGuid: "looker-oauth",
 *   redirectUri: "http://localhost:8080/callback",
 * });
 * ```
 */
export async function registerLookerApp(
  registration: LookerAppRegistration,
): Promise<LookerAppRegistrationResult> {
  const api = lookerApiBase(registration.apiUrl);
  const send = boundedFetch(registration);
  const call = (
    method: string,
    path: string,
    init: RequestInit = {},
  ): Promise<Response> => send(`${api}${path}`, { ...init, method });

  const login = await call("POST", "/api/4.0/login", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: registration.apiClientId,
      client_secret: registration.apiClientSecret,
    }),
  });
  if (!login.ok) {
    const err = await lookerApiError(login, "the API3 login");
    throw Object.assign(err, {
      hint:
        "check the API3 client id and secret (Admin > Users > Edit keys) and the API URL",
    });
  }
  const { access_token: token } = await login.json() as {
    access_token: unknown;
  };
  // It goes into a header next: never let one quote it in a TypeError.
  if (!isTokenText(token)) {
    throw new OAuthError(
      "invalid_response",
      "the API3 login answered without a usable access token (missing, or with characters a token cannot have)",
      { hint: "check the API URL: it must be the Looker API host" },
    );
  }
  const auth = {
    authorization: bearerHeader(token),
    "content-type": "application/json",
    accept: "application/json",
  };
  const path = `/api/4.0/oauth_client_apps/${
    encodeURIComponent(registration.clientGuid)
  }`;
  const wanted = {
    redirect_uri: registration.redirectUri,
    display_name: registration.displayName ?? registration.clientGuid,
    description: registration.description ??
      `${registration.displayName ?? registration.clientGuid} (looker-oauth)`,
    enabled: registration.enabled ?? true,
  };
  try {
    const existing = await call("GET", path, { headers: auth });
    if (existing.status === 404) {
      await existing.body?.cancel();
      const created = await call("POST", path, {
        headers: auth,
        body: JSON.stringify(wanted),
      });
      if (!created.ok) throw await lookerApiError(created, `POST ${path}`);
      return { action: "created", app: await created.json() };
    }
    if (!existing.ok) throw await lookerApiError(existing, `GET ${path}`);
    const app = await existing.json() as LookerOAuthApp;
    const changes: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(wanted)) {
      const explicit = key === "redirect_uri" || key === "enabled" ||
        (key === "display_name" && registration.displayName !== undefined) ||
        (key === "description" && registration.description !== undefined);
      if (explicit && app[key] !== value) changes[key] = value;
    }
    if (Object.keys(changes).length === 0) {
      return { action: "unchanged", app };
    }
    const updated = await call("PATCH", path, {
      headers: auth,
      body: JSON.stringify(changes),
    });
    if (!updated.ok) throw await lookerApiError(updated, `PATCH ${path}`);
    return { action: "updated", app: await updated.json() };
  } finally {
    await call("DELETE", "/api/4.0/logout", { headers: auth }).then(
      (r) => r.body?.cancel(),
      () => {},
    );
  }
}
