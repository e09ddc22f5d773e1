// `looker-oauth register`: create or update the OAuth client app in Looker.
import { registerLookerApp } from "../looker/register.ts";
import { caFileFetch } from "../store/ca_file.ts";
import { stateHome } from "../store/home.ts";
import { parseArgs, str, UsageError } from "./_args.ts";
import {
  dirOf,
  isFalse,
  readConfig,
  readLookerIniSection,
  resolvePath,
} from "./_config.ts";
import { profileName } from "./_profile.ts";
import { EXIT, UNTRUSTED_CERTIFICATE_HINT } from "./_errors.ts";
import type { Env, Io } from "./_io.ts";
import { shown } from "./_text.ts";
import { serverFetch } from "./_session.ts";

export const HELP =
  `Usage: looker-oauth register --client-id GUID --redirect-uri URI [flags]

Registers an OAuth client app with Looker (register_oauth_client_app), or
updates it when it exists and differs. This is done once, by a Looker admin,
with an API3 key; people then sign in with 'looker-oauth login'.

  --client-id GUID      the app's client id (client_guid), e.g. looker-oauth
  --redirect-uri URI    the redirect URI, e.g. http://localhost:8080/callback;
                        Looker accepts exactly this one, character for character
  --display-name T      the name on the consent page (default: the client id)
  --description T       what the app does, shown on the consent page
  --disabled            register it disabled
  --api-url URL         the API URL (default: LOOKER_OAUTH_API_URL,
                        LOOKERSDK_BASE_URL, looker.ini base_url, or the profile's)
  --profile NAME        the profile whose API URL (and CA file) to use
  --ca-file PEM         trust this CA certificate for the instance (default:
                        LOOKER_OAUTH_CA_FILE, looker.ini ca_file, the profile's)
  --ini FILE            the looker.ini to read (default: $LOOKER_OAUTH_INI,
                        $LOOKERSDK_INI, else ./looker.ini if there is one)
  --section NAME        its section (default: [Looker], else the first one)
  --json                print the app as JSON on stdout

The API3 key comes from LOOKERSDK_CLIENT_ID and LOOKERSDK_CLIENT_SECRET, or
client_id and client_secret in looker.ini's section (never from
flags, which other users can see in the process list).

Example:
  LOOKERSDK_CLIENT_ID=... LOOKERSDK_CLIENT_SECRET=... \\
    looker-oauth register --api-url https://example.looker.com:19999 \\
      --client-id looker-oauth --redirect-uri http://localhost:8080/callback

Exit codes: 0 registered or updated; 1 Looker refused or could not be
reached; 2 usage.`;

/** What `register` was asked. */
export interface RegisterOptions {
  readonly clientGuid: string;
  readonly redirectUri: string;
  readonly displayName: string | undefined;
  readonly description: string | undefined;
  /** `--api-url`; else found in the environment, looker.ini or the profile. */
  readonly apiUrl: string | undefined;
  readonly profile: string | undefined;
  readonly caFile: string | undefined;
  readonly ini: string | undefined;
  readonly section: string | undefined;
  readonly disabled: boolean;
  readonly json: boolean;
}

/** Reads `register`'s flags. */
export function parseRegister(argv: string[], _env: Env): RegisterOptions {
  const args = parseArgs(argv, {
    string: [
      "client-id",
      "redirect-uri",
      "display-name",
      "description",
      "api-url",
      "profile",
      "ca-file",
      "ini",
      "section",
    ],
    boolean: ["disabled", "json"],
  }, "register");
  const clientGuid = str(args, "client-id");
  const redirectUri = str(args, "redirect-uri");
  if (!clientGuid) throw new UsageError("--client-id is required", "register");
  if (!redirectUri) {
    throw new UsageError("--redirect-uri is required", "register");
  }
  try {
    new URL(redirectUri);
  } catch {
    throw new UsageError(`${redirectUri} is not an absolute URL`, "register");
  }
  return {
    clientGuid,
    redirectUri,
    displayName: str(args, "display-name"),
    description: str(args, "description"),
    apiUrl: str(args, "api-url"),
    profile: str(args, "profile"),
    caFile: str(args, "ca-file"),
    ini: str(args, "ini"),
    section: str(args, "section"),
    disabled: args.flags.disabled === true,
    json: args.flags.json === true,
  };
}

/** Registers (or updates) the OAuth client app with an API3 key. */
export async function runRegister(
  options: RegisterOptions,
  io: Io,
): Promise<number> {
  const { clientGuid, redirectUri } = options;
  const env = (name: string) => io.env(name);
  const iniFile = options.ini;
  const iniSection = options.section;
  const ini = await readLookerIniSection(env, {
    cwd: io.cwd(),
    ...(iniFile === undefined ? {} : { file: iniFile }),
    ...(iniSection === undefined ? {} : { section: iniSection }),
  });
  const config = await readConfig(stateHome(env), io.err);
  const profile = config.profiles[profileName(options.profile, env)];
  const apiUrl = options.apiUrl ?? env("LOOKER_OAUTH_API_URL") ??
    env("LOOKERSDK_BASE_URL") ?? ini.section.base_url ?? profile?.apiUrl;
  if (!apiUrl) {
    throw new UsageError(
      "no API URL: pass --api-url (e.g. https://example.looker.com:19999)",
      "register",
    );
  }
  const apiClientId = env("LOOKERSDK_CLIENT_ID") ?? ini.section.client_id;
  const apiClientSecret = env("LOOKERSDK_CLIENT_SECRET") ??
    ini.section.client_secret;
  if (!apiClientId || !apiClientSecret) {
    throw new UsageError(
      "no API3 key: set LOOKERSDK_CLIENT_ID and LOOKERSDK_CLIENT_SECRET (Admin > Users > Edit keys), or put them in looker.ini",
      "register",
    );
  }
  const flagCa = options.caFile ?? env("LOOKER_OAUTH_CA_FILE");
  const caFile = flagCa !== undefined
    ? resolvePath(flagCa, io.cwd())
    : ini.section.ca_file && ini.path
    ? resolvePath(ini.section.ca_file, dirOf(ini.path))
    : profile?.caFile;
  if (
    !caFile &&
    (isFalse(env("LOOKERSDK_VERIFY_SSL")) || isFalse(ini.section.verify_ssl))
  ) {
    io.err(
      "looker-oauth: verify_ssl=false asks to skip certificate checks; looker-oauth keeps them on.",
    );
    io.err(`hint: ${UNTRUSTED_CERTIFICATE_HINT}`);
  }
  const displayName = options.displayName;
  const description = options.description;
  const result = await registerLookerApp({
    fetch: serverFetch(
      io,
      caFile ? { base: await caFileFetch(caFile) } : {},
    ),
    apiUrl,
    apiClientId,
    apiClientSecret,
    clientGuid,
    redirectUri,
    enabled: !options.disabled,
    ...(displayName === undefined ? {} : { displayName }),
    ...(description === undefined ? {} : { description }),
  });
  if (options.json) io.out(`${JSON.stringify(result.app, null, 2)}\n`);
  const verb = {
    created: "Registered",
    updated: "Updated",
    unchanged: "Already registered (unchanged):",
  }[result.action];
  // What Looker sends back is shown without control characters.
  io.err(shown(
    `✓ ${verb} ${result.app.client_guid} with redirect URI ${result.app.redirect_uri}${
      result.app.enabled ? "" : " (disabled)"
    }.`,
  ));
  io.err(shown(
    `People sign in with: looker-oauth login --api-url ${apiUrl} --client-id ${result.app.client_guid}${
      result.app.redirect_uri === "http://localhost:8080/callback"
        ? ""
        : ` --redirect-uri ${result.app.redirect_uri}`
    }`,
  ));
  return EXIT.ok;
}
