/**
 * Calling Looker's API with a signed-in session.
 *
 * @module
 */
import type { TokenSession } from "../core/session.ts";
import { lookerApiError } from "./api_error.ts";

/** The API version paths default to. */
export const LOOKER_API_VERSION = "4.0";

/**
 * Expands a short API path: `/user` or `user` → `/api/4.0/user`; paths that
 * already start with `/api/` are kept.
 *
 * @param path The path, with an optional query.
 * @returns The full API path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookerApiPath } from "./api.ts";
 *
 * assert.equal(lookerApiPath("/user"), "/api/4.0/user");
 * assert.equal(lookerApiPath("/api/versions"), "/api/versions");
 * ```
 */
export function lookerApiPath(path: string): string {
  const trimmed = path.trim();
  if (/^\/?api\//.test(trimmed)) {
    return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
  }
  const rest = trimmed.replace(/^\/+/, "");
  return `/api/${LOOKER_API_VERSION}/${rest}`;
}

/** The signed-in Looker user, as `GET /api/4.0/user` returns it (in part). */
export interface LookerUser {
  /** The user id. */
  readonly id: string;
  /** The name shown in Looker. */
  readonly display_name?: string;
  /** The e-mail address. */
  readonly email?: string;
  /** Every other field Looker returned. */
  readonly [field: string]: unknown;
}

/**
 * Fetches the signed-in user.
 *
 * @param session A session on a Looker server.
 * @returns The user.
 * @throws {LookerApiError} On a non-2xx answer.
 * @throws {OAuthError} `login_required` and transport errors.
 *
 * @example
 * ```ts ignore
 * import { currentLookerUser, type TokenSession } from "@looker-oauth/pkce";
 *
 * declare const session: TokenSession; // signed in to a Looker
 * const me = await currentLookerUser(session);
 * console.log(me.display_name, me.email);
 * ```
 */
export async function currentLookerUser(
  session: TokenSession,
): Promise<LookerUser> {
  const path = lookerApiPath("/user");
  const response = await session.fetch(path, {
    headers: { accept: "application/json" },
  });
  if (!response.ok) throw await lookerApiError(response, `GET ${path}`);
  return await response.json() as LookerUser;
}
