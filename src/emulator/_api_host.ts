// Private to the Looker emulator: the API host — CORS for the allowed
// origins, `/api/versions`, `POST /api/4.0/login` (API3 key), the user,
// logout and the OAuth client apps; `POST /api/token` goes to the token
// endpoint.
import type { OAuthClientApp } from "./looker_emulator.ts";
import { type EmulatorState, redirectUriProblem } from "./_state.ts";
import type { TokenEndpoint } from "./_token_endpoint.ts";
import {
  apiError,
  apiNotFound,
  DOCS_URL,
  json,
  readJsonObject,
  readParams,
  sameString,
} from "./_util.ts";

/** The API host's request handler over the emulator's state. */
export class ApiHost {
  readonly #state: EmulatorState;
  readonly #tokenEndpoint: TokenEndpoint;

  constructor(state: EmulatorState, tokenEndpoint: TokenEndpoint) {
    this.#state = state;
    this.#tokenEndpoint = tokenEndpoint;
  }

  /** Answers one request to the API host. */
  async handle(request: Request): Promise<Response> {
    const origin = request.headers.get("origin");
    const allowed = origin !== null && this.#state.origins.has(origin)
      ? origin
      : undefined;
    if (request.method === "OPTIONS") {
      if (!allowed) {
        this.#state.stats.refusedPreflights++;
        return apiError(403, "Origin not allowed");
      }
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": allowed,
          "access-control-allow-methods":
            "GET, POST, PUT, PATCH, DELETE, OPTIONS",
          "access-control-allow-headers":
            "authorization, content-type, x-looker-appid",
          "access-control-max-age": "600",
          vary: "Origin",
        },
      });
    }
    const response = await this.#apiRoute(request);
    return allowed ? withCors(response, allowed) : response;
  }

  async #apiRoute(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    if (path === "/api/token" && method === "POST") {
      return await this.#tokenEndpoint.handle(request);
    }
    this.#state.stats.apiCalls++;
    const filter = this.#state.apiResponseFilter;
    const response = await this.#answer(request, url, path, method);
    return filter
      ? await filter(response, { method, path, headers: request.headers })
      : response;
  }

  async #answer(
    request: Request,
    url: URL,
    path: string,
    method: string,
  ): Promise<Response> {
    // Both answer without a token, as Looker's do.
    if (
      (path === "/api/versions" || path === "/api/4.0/versions") &&
      method === "GET"
    ) {
      return this.#versions();
    }
    // The TypeScript SDK's OAuthSession signs out at the unversioned path.
    const route = path === "/api/logout"
      ? "logout"
      : path.startsWith("/api/4.0/")
      ? path.slice("/api/4.0/".length)
      : undefined;
    if (route === undefined) return apiNotFound();
    if (route === "login" && method === "POST") {
      return await this.#apiLogin(request, url);
    }
    const token = this.#authenticate(request);
    if (!token) {
      return apiError(401, "Requires authentication.");
    }
    if (route === "user" && method === "GET") {
      return this.#me(url);
    }
    if (route === "logout" && method === "DELETE") {
      return this.#logout(token);
    }
    if (path === "/api/logout") return apiNotFound();
    if (route === "oauth_client_apps" && method === "GET") {
      return json(200, [...this.#state.apps.values()]);
    }
    const app = /^oauth_client_apps\/([^/]+)$/.exec(route);
    if (app) {
      let guid: string;
      try {
        guid = decodeURIComponent(app[1]!);
      } catch {
        return apiNotFound();
      }
      return await this.#oauthClientApp(request, method, guid);
    }
    return apiNotFound();
  }

  #versions(): Response {
    const version = (v: string, full: string, status: string) => ({
      version: v,
      full_version: full,
      status,
      swagger_url: `${this.#state.apiUrl}/api/${v}/swagger.json`,
    });
    const current = version("4.0", "4.0.25.0", "current");
    return json(200, {
      looker_release_version: "25.0.0",
      current_version: current,
      supported_versions: [version("3.1", "3.1.0", "legacy"), current],
      api_server_url: this.#state.apiUrl,
      web_server_url: this.#state.lookerUrl,
    });
  }

  /** The valid access token a request carries, if any. */
  #authenticate(request: Request): string | undefined {
    const header = request.headers.get("authorization") ?? "";
    const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
    if (!match) return undefined;
    const token = match[1]!;
    return this.#state.validAccess(token) ? token : undefined;
  }

  #me(url: URL): Response {
    const wanted = url.searchParams.get("fields");
    const user: Record<string, unknown> = { ...this.#state.user };
    if (!wanted) return json(200, user);
    const picked: Record<string, unknown> = {};
    for (const name of wanted.split(",").map((f) => f.trim())) {
      if (name in user) picked[name] = user[name];
    }
    return json(200, picked);
  }

  #logout(token: string): Response {
    const record = this.#state.access.get(token)!;
    record.revoked = true;
    if (record.grant) record.grant.revoked = true;
    this.#state.stats.logouts++;
    return new Response(null, { status: 204 });
  }

  /** `POST /api/4.0/login`: an API3 key for a token, 404 when wrong. */
  async #apiLogin(request: Request, url: URL): Promise<Response> {
    const body = await readParams(request);
    const values = body.ok ? body.values : new Map<string, string>();
    const clientId = values.get("client_id") ??
      url.searchParams.get("client_id") ?? "";
    const secret = values.get("client_secret") ??
      url.searchParams.get("client_secret") ?? "";
    const expected = this.#state.apiCredentials;
    const idOk = sameString(clientId, expected.clientId);
    const secretOk = sameString(secret, expected.clientSecret);
    if (!idOk || !secretOk) return apiNotFound();
    const token = this.#state.issueAccessToken(undefined);
    // Looker's API3 login names the refresh token it does not give.
    return json(200, {
      access_token: token,
      token_type: "Bearer",
      expires_in: this.#state.accessTtl,
      refresh_token: null,
    });
  }

  async #oauthClientApp(
    request: Request,
    method: string,
    guid: string,
  ): Promise<Response> {
    const existing = this.#state.apps.get(guid);
    if (method === "GET") {
      return existing ? json(200, existing) : apiNotFound();
    }
    if (method === "DELETE") {
      // Looker answers 204 whether or not the app existed.
      if (!existing) return new Response(null, { status: 204 });
      this.#state.apps.delete(guid);
      for (const grant of this.#state.grants) {
        if (grant.clientId === guid) grant.revoked = true;
      }
      return new Response(null, { status: 204 });
    }
    if (method !== "POST" && method !== "PATCH") return apiNotFound();
    if (method === "PATCH" && !existing) return apiNotFound();
    if (method === "POST" && existing) {
      return apiError(
        409,
        `An OAuth client app with client_guid ${guid} already exists`,
      );
    }
    const body = await readJsonObject(request);
    if (typeof body === "string") return apiError(400, body);
    const errors = validateApp(body, method === "POST");
    if (errors.length > 0) {
      return apiError(422, "Validation Failed", { errors });
    }
    const base: OAuthClientApp = existing ?? {
      client_guid: guid,
      redirect_uri: "",
      display_name: guid,
      description: "",
      enabled: true,
      group_id: null,
    };
    const app: OAuthClientApp = {
      client_guid: guid,
      redirect_uri: typeof body.redirect_uri === "string"
        ? body.redirect_uri
        : base.redirect_uri,
      display_name: typeof body.display_name === "string"
        ? body.display_name
        : base.display_name,
      description: typeof body.description === "string"
        ? body.description
        : base.description,
      enabled: typeof body.enabled === "boolean" ? body.enabled : base.enabled,
      group_id: "group_id" in body
        ? body.group_id as string | null
        : base.group_id ?? null,
    };
    this.#state.apps.set(guid, app);
    return json(200, app);
  }
}

interface FieldError {
  field: string;
  code: string;
  message: string;
  documentation_url: string;
}

function validateApp(
  body: Record<string, unknown>,
  creating: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (field: string, code: string, message: string) =>
    errors.push({ field, code, message, documentation_url: DOCS_URL });
  if (!("redirect_uri" in body) || body.redirect_uri === null) {
    if (creating) fail("redirect_uri", "missing", "This field is required.");
  } else {
    const problem = redirectUriProblem(body.redirect_uri);
    if (problem) fail("redirect_uri", "invalid", problem);
  }
  for (const field of ["display_name", "description"]) {
    if (field in body && typeof body[field] !== "string") {
      fail(field, "invalid", "Must be a string.");
    }
  }
  if ("enabled" in body && typeof body.enabled !== "boolean") {
    fail("enabled", "invalid", "Must be true or false.");
  }
  if (
    "group_id" in body && body.group_id !== null &&
    typeof body.group_id !== "string"
  ) {
    fail("group_id", "invalid", "Must be a string or null.");
  }
  return errors;
}

function withCors(response: Response, origin: string): Response {
  const headers = new Headers(response.headers);
  headers.set("access-control-allow-origin", origin);
  headers.append("vary", "Origin");
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
