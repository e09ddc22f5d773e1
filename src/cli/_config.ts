// Private: the profile file (config.json), looker.ini, and the settings
// precedence: flags > LOOKER_OAUTH_* > LOOKERSDK_* > looker.ini > profile.
import { UsageError } from "./_args.ts";

export {
  type ConfigFile,
  configPath,
  type Profile,
  type ProfileUser,
  readConfig,
  saveProfile,
} from "../store/config_file.ts";
import type { Profile } from "../store/config_file.ts";

/** The settings `login` can take, each from any layer. */
export interface Settings {
  lookerUrl?: string;
  apiUrl?: string;
  issuer?: string;
  clientId?: string;
  redirectUri?: string;
  scope?: string;
  /** A PEM file of CA certificates trusted for this instance. */
  caFile?: string;
}

const SETTING_KEYS = [
  "lookerUrl",
  "apiUrl",
  "issuer",
  "clientId",
  "redirectUri",
  "scope",
  "caFile",
] as const;

/** Which looker.ini, and which of its sections (`--ini`, `--section`). */
export interface IniChoice {
  /** `--ini FILE`: beats LOOKER_OAUTH_INI and LOOKERSDK_INI. */
  file?: string;
  /** `--section NAME`: beats the `[Looker]`-else-first rule. */
  section?: string;
  /** The folder a relative path is in; the process's by default. */
  cwd?: string;
}

/** A section read from looker.ini. */
export interface IniSection {
  /** The file read; absent when there is none. */
  path?: string;
  /** The section's name as written, e.g. `Looker`. */
  name?: string;
  /** Its keys (lowercased) and values. */
  section: Record<string, string>;
}

/**
 * Reads looker.ini as the Looker SDKs do: the file is `--ini`, else
 * LOOKER_OAUTH_INI, else LOOKERSDK_INI, else ./looker.ini (optional); the
 * section is `--section`, else `[Looker]`, else the first one.
 */
export async function readLookerIniSection(
  env: (name: string) => string | undefined,
  choice: IniChoice = {},
): Promise<IniSection> {
  const explicit = choice.file ?? env("LOOKER_OAUTH_INI") ??
    env("LOOKERSDK_INI");
  const path = resolvePath(explicit ?? "looker.ini", choice.cwd);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (explicit !== undefined) {
      throw new UsageError(
        err instanceof Deno.errors.NotFound
          ? `the ini file ${path} does not exist`
          : `cannot read the ini file ${path}: ${(err as Error).message}`,
      );
    }
    if (choice.section !== undefined) {
      throw new UsageError(
        `--section ${choice.section}: there is no looker.ini here (pass --ini FILE)`,
      );
    }
    return { section: {} };
  }
  const sections = parseIniSections(text);
  let picked: { name: string; values: Record<string, string> } | undefined;
  if (choice.section !== undefined) {
    const wanted = choice.section.toLowerCase();
    picked = sections.find((s) => s.name.toLowerCase() === wanted);
    if (!picked) {
      throw new UsageError(
        `${path} has no [${choice.section}] section${
          sections.length
            ? ` (it has ${sections.map((s) => `[${s.name}]`).join(", ")})`
            : ""
        }`,
      );
    }
  } else {
    picked = sections.find((s) => s.name.toLowerCase() === "looker") ??
      sections[0];
  }
  if (!picked) return { path, section: {} };
  return { path, name: picked.name, section: picked.values };
}

/** Whether `value` turns an ini or environment flag off (SDK spellings). */
export function isFalse(value: string | undefined): boolean {
  return value !== undefined &&
    /^(?:false|f|no|n|0|off)$/i.test(value.trim());
}

/** The sign-in settings in looker.ini's chosen section. */
export async function readLookerIni(
  env: (name: string) => string | undefined,
  choice: IniChoice = {},
): Promise<
  Settings & {
    path?: string;
    name?: string;
    verifySslOff?: boolean;
    timeout?: string;
  }
> {
  const { path, name, section } = await readLookerIniSection(env, choice);
  const settings: Settings & {
    path?: string;
    name?: string;
    verifySslOff?: boolean;
    timeout?: string;
  } = path ? { path } : {};
  if (section.timeout) settings.timeout = section.timeout;
  if (name) settings.name = name;
  if (section.base_url) settings.apiUrl = section.base_url;
  if (section.looker_url) settings.lookerUrl = section.looker_url;
  if (section.redirect_uri) settings.redirectUri = section.redirect_uri;
  // Relative to the ini file, which usually sits beside the PEM.
  if (section.ca_file && path) {
    settings.caFile = resolvePath(section.ca_file, dirOf(path));
  }
  if (isFalse(section.verify_ssl)) settings.verifySslOff = true;
  // With a client_secret, client_id is an API3 key, not an OAuth client.
  if (section.client_id && !section.client_secret) {
    settings.clientId = section.client_id;
  }
  return settings;
}

/** `path` made absolute against `base` (default: the working directory). */
export function resolvePath(path: string, base: string = Deno.cwd()): string {
  if (/^(?:[A-Za-z]:)?[\\/]/.test(path)) return path;
  return `${base.replace(/[\\/]+$/, "")}/${path}`;
}

/** The folder of `path`, absolute. */
export function dirOf(path: string): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  return resolvePath(dir);
}

/** Parses INI text: sections (lowercased) of key = value. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const { name, values } of parseIniSections(text)) {
    Object.assign(out[name.toLowerCase()] ??= {}, values);
  }
  return out;
}

/** Parses INI text into its sections, in file order, names as written. */
export function parseIniSections(
  text: string,
): { name: string; values: Record<string, string> }[] {
  const out: { name: string; values: Record<string, string> }[] = [];
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      const name = section[1]!.trim();
      const existing = out.find((s) =>
        s.name.toLowerCase() === name.toLowerCase()
      );
      current = existing?.values;
      if (!current) {
        current = {};
        out.push({ name, values: current });
      }
      continue;
    }
    const eq = line.search(/[=:]/);
    if (!current || eq < 1) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    current[key] = value;
  }
  return out;
}

/** Settings from the environment: LOOKER_OAUTH_*, then LOOKERSDK_BASE_URL. */
export function envSettings(
  env: (name: string) => string | undefined,
): { own: Settings; sdk: Settings } {
  const own: Settings = {};
  const map: Record<(typeof SETTING_KEYS)[number], string> = {
    lookerUrl: "LOOKER_OAUTH_LOOKER_URL",
    apiUrl: "LOOKER_OAUTH_API_URL",
    issuer: "LOOKER_OAUTH_ISSUER",
    clientId: "LOOKER_OAUTH_CLIENT_ID",
    redirectUri: "LOOKER_OAUTH_REDIRECT_URI",
    scope: "LOOKER_OAUTH_SCOPE",
    caFile: "LOOKER_OAUTH_CA_FILE",
  };
  for (const key of SETTING_KEYS) {
    const value = env(map[key]);
    if (value) own[key] = value;
  }
  const sdk: Settings = {};
  const base = env("LOOKERSDK_BASE_URL");
  if (base) sdk.apiUrl = base;
  return { own, sdk };
}

/** A resolved setting and the layer it came from. */
export interface Resolved {
  settings: Settings;
  kind: "looker" | "oauth" | undefined;
  from: Partial<Record<keyof Settings, string>>;
}

/** One source of settings, for {@linkcode resolveSettings}. */
export interface SettingsLayer {
  name: string;
  settings: Settings;
  /**
   * Remembered from an earlier sign-in (the saved profile) rather than given
   * for this one: its server URLs are used only when no other layer names a
   * server, so a stale UI host is never paired with another API host.
   */
  remembered?: boolean;
}

/**
 * The settings that say where the server is (the CA file belongs with the
 * server it was given for).
 */
const SERVER_KEYS: ReadonlySet<keyof Settings> = new Set([
  "lookerUrl",
  "apiUrl",
  "issuer",
  "caFile",
]);

/**
 * Merges layers, highest first. The first layer naming a server (an issuer,
 * or a Looker URL) decides the kind, and lower layers' server settings of the
 * other kind are ignored. A remembered layer (the saved profile) lends no
 * server URL to a server named by another layer: `login --api-url B` after a
 * sign-in to A discovers B's UI host instead of borrowing A's.
 */
export function resolveSettings(
  layers: readonly SettingsLayer[],
): Resolved {
  let kind: "looker" | "oauth" | undefined;
  let serverLayer: SettingsLayer | undefined;
  for (const layer of layers) {
    const { settings } = layer;
    if (settings.issuer) {
      kind = "oauth";
      serverLayer = layer;
      break;
    }
    if (settings.lookerUrl || settings.apiUrl) {
      kind = "looker";
      serverLayer = layer;
      break;
    }
  }
  const settings: Settings = {};
  const from: Resolved["from"] = {};
  for (const key of SETTING_KEYS) {
    if (kind === "oauth" && (key === "lookerUrl")) continue;
    if (kind === "looker" && key === "issuer") continue;
    for (const layer of layers) {
      if (
        layer.remembered && layer !== serverLayer && SERVER_KEYS.has(key)
      ) {
        continue;
      }
      const value = layer.settings[key];
      if (value) {
        settings[key] = value;
        from[key] = layer.name;
        break;
      }
    }
  }
  return { settings, kind, from };
}

/** A profile's settings, as the lowest layer. */
export function profileSettings(profile: Profile | undefined): Settings {
  if (!profile) return {};
  const s: Settings = {
    clientId: profile.clientId,
    redirectUri: profile.redirectUri,
  };
  if (profile.scope) s.scope = profile.scope;
  if (profile.caFile) s.caFile = profile.caFile;
  if (profile.kind === "looker") {
    if (profile.lookerUrl) s.lookerUrl = profile.lookerUrl;
    if (profile.apiUrl) s.apiUrl = profile.apiUrl;
  } else if (profile.issuer) {
    s.issuer = profile.issuer;
    if (profile.apiUrl) s.apiUrl = profile.apiUrl;
  }
  return s;
}
