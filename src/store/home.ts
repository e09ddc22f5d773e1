/**
 * Where looker-oauth keeps its state.
 *
 * @module
 */
import { TokenStoreError } from "./errors.ts";

/** Reads an environment variable. */
export type EnvReader = (name: string) => string | undefined;

/**
 * The folder holding `config.json` and `tokens/`: `$LOOKER_OAUTH_HOME`, else
 * `$XDG_CONFIG_HOME/looker-oauth`, else `~/.config/looker-oauth`
 * (`%APPDATA%\looker-oauth` on Windows).
 *
 * @param env Reads environment variables; `Deno.env.get` by default.
 * @param os The operating system; `Deno.build.os` by default.
 * @returns The folder's path.
 * @throws {TokenStoreError} `no_home` when no folder can be found at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateHome } from "@looker-oauth/pkce";
 *
 * const home = stateHome((name) =>
 *   name === "LOOKER_OAUTH_HOME" ? "/tmp/lo" : undefined
 * );
 * assert.equal(home, "/tmp/lo");
 * ```
 */
export function stateHome(
  env: EnvReader = (name) => Deno.env.get(name),
  os: string = Deno.build.os,
): string {
  const explicit = env("LOOKER_OAUTH_HOME");
  if (explicit) return explicit;
  if (os === "windows") {
    const appData = env("APPDATA");
    if (appData) return `${appData}\\looker-oauth`;
  }
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/looker-oauth`;
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) {
    throw new TokenStoreError(
      "no_home",
      "no folder to keep looker-oauth's state in: neither LOOKER_OAUTH_HOME, XDG_CONFIG_HOME nor HOME is set",
      {
        hint:
          "set LOOKER_OAUTH_HOME to the folder looker-oauth may keep its files in",
      },
    );
  }
  return `${home}/.config/looker-oauth`;
}
