import assert from "node:assert/strict";
import {
  envSettings,
  parseIni,
  type Profile,
  profileSettings,
  readConfig,
  readLookerIni,
  resolveSettings,
  saveProfile,
} from "../../src/cli/_config.ts";
import { profileName } from "../../src/cli/_profile.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("resolveSettings() takes each setting from the highest layer that has it", () => {
  const { settings, kind, from } = resolveSettings([
    { name: "flags", settings: { clientId: "from-flag" } },
    {
      name: "env",
      settings: { lookerUrl: "https://env.example", scope: "env-scope" },
    },
    {
      name: "ini",
      settings: { apiUrl: "https://ini.example:19999", scope: "ini-scope" },
    },
    {
      name: "profile",
      settings: {
        clientId: "saved",
        redirectUri: "http://localhost:9000/cb",
      },
    },
  ]);
  assert.equal(kind, "looker");
  assert.equal(settings.clientId, "from-flag");
  assert.equal(settings.lookerUrl, "https://env.example");
  assert.equal(settings.apiUrl, "https://ini.example:19999");
  assert.equal(settings.scope, "env-scope");
  assert.equal(settings.redirectUri, "http://localhost:9000/cb");
  assert.equal(from.scope, "env");
});

Deno.test("resolveSettings() lets the highest layer naming a server decide the kind", () => {
  const generic = resolveSettings([
    { name: "flags", settings: { issuer: "https://id.example" } },
    { name: "profile", settings: { lookerUrl: "https://old.looker" } },
  ]);
  assert.equal(generic.kind, "oauth");
  assert.equal(generic.settings.lookerUrl, undefined);

  const looker = resolveSettings([
    { name: "flags", settings: { lookerUrl: "https://new.looker" } },
    { name: "profile", settings: { issuer: "https://id.example" } },
  ]);
  assert.equal(looker.kind, "looker");
  assert.equal(looker.settings.issuer, undefined);

  assert.equal(resolveSettings([{ name: "x", settings: {} }]).kind, undefined);
});

Deno.test("envSettings() reads LOOKER_OAUTH_* and LOOKERSDK_BASE_URL apart", () => {
  const { own, sdk } = envSettings(env({
    LOOKER_OAUTH_CLIENT_ID: "cid",
    LOOKER_OAUTH_LOOKER_URL: "https://ui.example",
    LOOKERSDK_BASE_URL: "https://api.example:19999",
    LOOKERSDK_CLIENT_ID: "api3-key-is-not-an-oauth-client",
  }));
  assert.deepEqual(own, {
    clientId: "cid",
    lookerUrl: "https://ui.example",
  });
  assert.deepEqual(sdk, { apiUrl: "https://api.example:19999" });
});

Deno.test("profileName() prefers the flag, then LOOKER_OAUTH_PROFILE, then default", () => {
  assert.equal(
    profileName("a", env({ LOOKER_OAUTH_PROFILE: "b" })),
    "a",
  );
  assert.equal(
    profileName(undefined, env({ LOOKER_OAUTH_PROFILE: "b" })),
    "b",
  );
  assert.equal(profileName(undefined, env({})), "default");
});

Deno.test("parseIni() reads sections, comments and quoted values", () => {
  const ini = parseIni(`
; comment
[Looker]
base_url = https://x.looker.com:19999
client_id="abc"
# another
verify_ssl: True
[Other]
base_url=https://other
`);
  assert.deepEqual(ini.looker, {
    base_url: "https://x.looker.com:19999",
    client_id: "abc",
    verify_ssl: "True",
  });
  assert.equal(ini.other?.base_url, "https://other");
});

Deno.test("readLookerIni() ignores an API3 client_id that comes with a secret", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/looker.ini`;
    await Deno.writeTextFile(
      path,
      "[Looker]\nbase_url=https://x:19999\nclient_id=api3\nclient_secret=s\nlooker_url=https://x\nredirect_uri=http://localhost:8080/callback\n",
    );
    const withSecret = await readLookerIni(env({ LOOKER_OAUTH_INI: path }));
    assert.equal(withSecret.clientId, undefined);
    assert.equal(withSecret.apiUrl, "https://x:19999");
    assert.equal(withSecret.lookerUrl, "https://x");
    assert.equal(withSecret.redirectUri, "http://localhost:8080/callback");

    await Deno.writeTextFile(path, "[Looker]\nclient_id=oauth-app\n");
    const oauthOnly = await readLookerIni(env({ LOOKER_OAUTH_INI: path }));
    assert.equal(oauthOnly.clientId, "oauth-app");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saveProfile() writes config.json 0600 and keeps other profiles", async () => {
  const home = await Deno.makeTempDir();
  try {
    const a: Profile = {
      kind: "looker",
      clientId: "a",
      redirectUri: "http://localhost:8080/callback",
      lookerUrl: "https://a.example",
      apiUrl: "https://a.example",
    };
    await saveProfile(home, "one", a);
    await saveProfile(home, "two", { ...a, clientId: "b" });
    const config = await readConfig(home);
    assert.equal(config.profiles.one?.clientId, "a");
    assert.equal(config.profiles.two?.clientId, "b");
    if (Deno.build.os !== "windows") {
      assert.equal(
        (await Deno.stat(`${home}/config.json`)).mode! & 0o777,
        0o600,
      );
    }
    assert.deepEqual(profileSettings(config.profiles.one), {
      clientId: "a",
      redirectUri: "http://localhost:8080/callback",
      lookerUrl: "https://a.example",
      apiUrl: "https://a.example",
    });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("readConfig() treats a corrupt config.json as empty, with one warning", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${home}/config.json`, "{ not json");
    const warnings: string[] = [];
    const config = await readConfig(home, (m) => warnings.push(m));
    assert.deepEqual(config.profiles, {});
    assert.equal(warnings.length, 1);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
