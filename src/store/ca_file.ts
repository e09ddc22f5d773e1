/**
 * Trusting a private certificate authority for one instance (on-premises
 * Looker), without turning certificate checks off for the whole process.
 *
 * @module
 */
import { OAuthError } from "../core/errors.ts";

/**
 * Reads a PEM file of CA certificates and returns an HTTP client that trusts
 * them besides the system's roots: `Deno.createHttpClient({ caCerts })`.
 * Pass it as `fetch(url, { client })`; other requests in the process are not
 * affected.
 *
 * @param path The PEM file (one or more `BEGIN CERTIFICATE` blocks).
 * @returns The HTTP client.
 * @throws {OAuthError} `invalid_argument` when the file cannot be read or
 *   holds no certificate.
 *
 * @example
 * ```ts ignore
 * import { caFileClient } from "./ca_file.ts";
 *
 * const client = await caFileClient("/etc/ssl/corp-ca.pem");
 * const res = await fetch("https://looker.corp.example/api/versions", { client });
 * ```
 */
export async function caFileClient(path: string): Promise<Deno.HttpClient> {
  let pem: string;
  try {
    pem = await Deno.readTextFile(path);
  } catch (err) {
    throw new OAuthError(
      "invalid_argument",
      `could not read the CA file ${path}: ${(err as Error).message}`,
      { cause: err, hint: "give the path of a PEM file of CA certificates" },
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new OAuthError(
      "invalid_argument",
      `${path} holds no PEM certificate`,
      {
        hint:
          "give a PEM file (-----BEGIN CERTIFICATE-----), such as your company's CA certificate",
      },
    );
  }
  let client: Deno.HttpClient;
  try {
    client = Deno.createHttpClient({ caCerts: [pem] });
  } catch (err) {
    throw new OAuthError(
      "invalid_argument",
      `the CA file ${path} could not be used: ${(err as Error).message}`,
      { cause: err, hint: "check that it is a valid PEM certificate" },
    );
  }
  return client;
}

/**
 * A `fetch` that sends every request through a {@linkcode caFileClient}:
 * inject it as the `fetch` option of a session or a grant.
 *
 * @param path The PEM file.
 * @returns The `fetch`.
 * @throws {OAuthError} As {@linkcode caFileClient}.
 *
 * @example
 * ```ts ignore
 * import {
 *   type AuthServer,
 *   caFileFetch,
 *   TokenSession,
 *   type TokenStore,
 * } from "@looker-oauth/pkce";
 *
 * declare const server: AuthServer;
 * declare const clientId: string;
 * declare const store: TokenStore;
 * const fetch = await caFileFetch("/etc/ssl/corp-ca.pem");
 * const session = new TokenSession({ server, clientId, store, fetch });
 * ```
 */
export async function caFileFetch(path: string): Promise<typeof fetch> {
  return withClient(await caFileClient(path));
}

/**
 * A `fetch` that sends every request through `client`.
 *
 * @param client The HTTP client.
 * @returns The `fetch`.
 */
export function withClient(client: Deno.HttpClient): typeof fetch {
  return (input, init) => fetch(input, { ...init, client });
}
