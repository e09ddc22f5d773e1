// Private: where `api` may send a profile's access token. Only to the
// origin the profile signed in to (its API URL; without one, the issuer's
// origin), and over plain http only to this machine unless the profile was
// created with --insecure-http.
import { isPlainHttpAllowed } from "../core/transport.ts";
import { CliError, EXIT } from "./_errors.ts";
import type { Profile } from "./_config.ts";

/** The one origin a profile's token may go to, or `undefined` if none is known. */
export function apiOrigin(profile: Profile): string | undefined {
  const base = profile.apiUrl ??
    (profile.kind === "looker" ? profile.lookerUrl : profile.issuer);
  if (base === undefined) return undefined;
  try {
    return new URL(base).origin;
  } catch {
    return undefined;
  }
}

/**
 * Refuses (exit 2) a target the token must not go to: another origin than
 * {@linkcode apiOrigin}, or plain http off loopback without --insecure-http.
 */
export function assertApiTarget(
  target: URL,
  profile: Profile,
  name: string,
): void {
  const origin = apiOrigin(profile);
  const again = `looker-oauth login${
    name === "default" ? "" : ` --profile ${name}`
  }`;
  if (origin === undefined || target.origin !== origin) {
    throw new CliError(
      `refusing to send the access token to ${target.origin}: profile "${name}" signed in to ${
        origin ?? "no known server"
      }, and its token goes only there`,
      {
        exitCode: EXIT.usage,
        hint: origin === undefined
          ? `sign in again with --api-url URL: ${again} --api-url URL`
          : `call a path or a URL on ${origin}; for another API, sign in with --api-url URL`,
      },
    );
  }
  if (
    target.protocol === "http:" &&
    !isPlainHttpAllowed(target, profile.insecureHttp === true)
  ) {
    throw new CliError(
      `refusing to send the access token over plain http to ${target.host}, which is not this machine`,
      {
        exitCode: EXIT.usage,
        hint:
          `use an https:// API URL, or sign in again with --insecure-http to allow plain http: ${again} --insecure-http`,
      },
    );
  }
}
