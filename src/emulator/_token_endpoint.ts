// Private to the Looker emulator: `POST /api/token` — a public client
// (Basic authentication refused), single-use codes checked against S256
// PKCE, refresh with or without rotation and reuse detection. The test hook
// `tokenResponseFilter` sees every answer last.
import type { EmulatorState, Grant } from "./_state.ts";
import {
  apiError,
  json,
  matchesChallenge,
  type Params,
  readParams,
  tokenError,
  VERIFIER,
} from "./_util.ts";

/** The token endpoint over the emulator's state. */
export class TokenEndpoint {
  readonly #state: EmulatorState;

  constructor(state: EmulatorState) {
    this.#state = state;
  }

  /** Answers `POST /api/token`. */
  async handle(request: Request): Promise<Response> {
    this.#state.stats.tokenRequests++;
    const params = await readParams(request);
    const grantType = params.ok ? params.values.get("grant_type") ?? "" : "";
    const response = await this.#tokenResponse(request, params);
    const filter = this.#state.tokenResponseFilter;
    return filter ? await filter(response, grantType) : response;
  }

  #tokenResponse(request: Request, params: Params): Promise<Response> {
    const authorization = request.headers.get("authorization") ?? "";
    if (/^basic\b/i.test(authorization.trim())) {
      return Promise.resolve(
        tokenError("invalid_client", "Failed Basic Authentication"),
      );
    }
    if (!params.ok) {
      return Promise.resolve(tokenError("invalid_request", params.reason));
    }
    const values = params.values;
    switch (values.get("grant_type")) {
      case "authorization_code":
        this.#state.stats.codeExchanges++;
        return this.#exchange(values);
      case "refresh_token": {
        this.#state.stats.refreshes++;
        const answer = this.#refreshGrant(values);
        return this.#state.lookerStyleRefusals === undefined
          ? Promise.resolve(answer)
          : lookerStyle(answer, this.#state.lookerStyleRefusals);
      }
      case undefined:
      case "":
        return Promise.resolve(
          tokenError("invalid_request", "grant_type is required"),
        );
      default:
        return Promise.resolve(
          tokenError(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
          ),
        );
    }
  }

  async #exchange(values: Map<string, string>): Promise<Response> {
    const missing = firstMissing(values, [
      "code",
      "client_id",
      "redirect_uri",
      "code_verifier",
    ]);
    if (missing) return tokenError("invalid_request", `${missing} is required`);
    const clientId = values.get("client_id")!;
    const app = this.#state.apps.get(clientId);
    if (!app || !app.enabled) {
      return tokenError("invalid_client", "Unknown or disabled client_id");
    }
    const record = this.#state.codes.get(values.get("code")!);
    if (!record) {
      return tokenError("invalid_grant", "The authorization code is invalid");
    }
    if (record.used) {
      // RFC 6749 §4.1.2: a code used twice revokes what it gave.
      if (record.grant) record.grant.revoked = true;
      return tokenError(
        "invalid_grant",
        "The authorization code was already used",
      );
    }
    // Any attempt uses the code up, so a verifier cannot be guessed at.
    record.used = true;
    if (record.expiresAt <= this.#state.now()) {
      return tokenError("invalid_grant", "The authorization code has expired");
    }
    if (record.clientId !== clientId) {
      return tokenError(
        "invalid_grant",
        "The authorization code was issued to another client",
      );
    }
    if (record.redirectUri !== values.get("redirect_uri")) {
      return tokenError("invalid_grant", "redirect_uri does not match");
    }
    const verifier = values.get("code_verifier")!;
    if (
      !VERIFIER.test(verifier) ||
      !(await matchesChallenge(verifier, record.challenge))
    ) {
      return tokenError(
        "invalid_grant",
        "code_verifier does not match the code_challenge",
      );
    }
    const grant: Grant = { clientId, revoked: false };
    this.#state.grants.add(grant);
    record.grant = grant;
    return this.#tokens(grant, true);
  }

  #refreshGrant(values: Map<string, string>): Response {
    const missing = firstMissing(values, [
      "refresh_token",
      "client_id",
      "redirect_uri",
    ]);
    if (missing) return tokenError("invalid_request", `${missing} is required`);
    const clientId = values.get("client_id")!;
    const app = this.#state.apps.get(clientId);
    if (!app || !app.enabled) {
      return tokenError("invalid_client", "Unknown or disabled client_id");
    }
    const token = values.get("refresh_token")!;
    const record = this.#state.refresh.get(token);
    if (!record || record.grant.clientId !== clientId) {
      return tokenError("invalid_grant", "The refresh token is invalid");
    }
    if (record.status === "rotated") {
      this.#state.stats.refreshReuses++;
      if (this.#state.revokeOnReuse) record.grant.revoked = true;
      return tokenError(
        "invalid_grant",
        "The refresh token was already used",
      );
    }
    if (record.grant.revoked || record.expiresAt <= this.#state.now()) {
      return tokenError(
        "invalid_grant",
        "The refresh token has expired or was revoked",
      );
    }
    if (values.get("redirect_uri") !== app.redirect_uri) {
      return tokenError("invalid_grant", "redirect_uri does not match");
    }
    const rotate = this.#state.rotateRefreshTokens;
    if (rotate) record.status = "rotated";
    return this.#tokens(record.grant, rotate);
  }

  #tokens(grant: Grant, withRefreshToken: boolean): Response {
    const body: Record<string, unknown> = {
      access_token: this.#state.issueAccessToken(grant),
      token_type: "Bearer",
      expires_in: this.#state.accessTtl,
    };
    if (withRefreshToken) {
      body.refresh_token = this.#state.issueRefreshToken(grant);
    } else if (this.#state.nullOptionalMembers) {
      body.refresh_token = null;
    }
    if (this.#state.nullOptionalMembers) {
      body.scope = null;
      body.id_token = null;
    }
    return json(200, body, { pragma: "no-cache" });
  }
}

/**
 * Re-words an RFC 6749 `invalid_grant` refusal as Looker's API errors read:
 * `{message, documentation_url}` with `status`. Other answers pass as they are.
 */
async function lookerStyle(
  answer: Response,
  status: number,
): Promise<Response> {
  if (answer.status !== 400) return answer;
  const body = await answer.clone().json() as {
    error?: string;
    error_description?: string;
  };
  if (body.error !== "invalid_grant") return answer;
  await answer.body?.cancel();
  return apiError(status, body.error_description ?? "Invalid refresh token");
}

function firstMissing(
  values: Map<string, string>,
  names: readonly string[],
): string | undefined {
  return names.find((name) => !values.get(name));
}
