// On-premises Looker with a private CA: the emulator over HTTPS with a CA
// and certificate made by openssl for this test. Without the CA file the
// sign-in is refused with a hint; with --ca-file (or LOOKER_OAUTH_CA_FILE,
// or ca_file in looker.ini) it works, and the profile keeps the CA for
// token, api and logout. Certificate checks are never turned off.
import assert from "node:assert/strict";
import { makePrivateCa, makeSelfSigned } from "../_tls.ts";
import {
  cli,
  expireTokenFile,
  readTokenFile,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";
import { LookerSdkSession } from "../../src/looker_sdk/mod.ts";
import { Looker40SDK } from "@looker/sdk";

async function tlsLooker() {
  const ca = await makePrivateCa();
  const caPem = await Deno.readTextFile(ca.caFile);
  const looker = await startLooker({ tls: { cert: ca.cert, key: ca.key } });
  return {
    ca,
    looker,
    /** login's flags, the UI host found through /api/versions. */
    discoverArgs: [
      "--api-url",
      looker.emulator.apiUrl,
      "--client-id",
      looker.clientId,
      "--redirect-uri",
      looker.redirectUri,
      "--timeout",
      "30",
    ],
    /** The person's browser trusts the company CA, as its OS does. */
    person: () => scriptedPerson({ caPem }),
    async [Symbol.asyncDispose]() {
      await looker[Symbol.asyncDispose]();
      await ca[Symbol.asyncDispose]();
    },
  };
}

Deno.test("login to an instance with a private CA is refused without the CA file, with a hint to --ca-file", async () => {
  await using t = await tempHome();
  await using setup = await tlsLooker();
  assert.ok(setup.looker.emulator.apiUrl.startsWith("https://"));
  const out = await cli(["login", ...setup.discoverArgs], {
    home: t.home,
    person: setup.person(),
  });
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, /certificate/i);
  assert.match(out.stderr, /--ca-file/);
  assert.equal(setup.looker.emulator.stats.authorizations, 0);
});

Deno.test("login --ca-file trusts the private CA, and token, api, logout and the SDK use it from the profile", async () => {
  await using t = await tempHome();
  await using setup = await tlsLooker();
  const { looker, ca } = setup;
  const login = await cli(
    ["login", ...setup.discoverArgs, "--ca-file", ca.caFile],
    { home: t.home, person: setup.person() },
  );
  assert.equal(login.code, 0, login.stderr);
  const config = JSON.parse(await Deno.readTextFile(`${t.home}/config.json`));
  assert.equal(config.profiles.default.caFile, ca.caFile);
  assert.equal(config.profiles.default.user.displayName, "Ada Lovelace");

  // A refresh (token) and an API call (api), over TLS, with no flag.
  await expireTokenFile(t.tokenFile());
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(
    token.stdout.trim(),
    (await readTokenFile(t.tokenFile())).tokens.accessToken,
  );
  assert.equal(looker.emulator.stats.refreshes, 1);
  const api = await cli(["api", "/user"], { home: t.home });
  assert.equal(api.code, 0, api.stderr);
  assert.equal(JSON.parse(api.stdout).email, "ada@example.com");

  // The SDK adapter takes the CA from the profile too.
  const sdk = new Looker40SDK(
    await LookerSdkSession.fromProfile(undefined, {
      home: t.home,
      env: () => undefined,
    }),
  );
  assert.equal((await sdk.ok(sdk.me())).id, "1");

  const logout = await cli(["logout"], { home: t.home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(looker.emulator.stats.logouts, 1);
});

Deno.test("LOOKER_OAUTH_CA_FILE and looker.ini's ca_file (relative to the ini) are honoured", async () => {
  await using setup = await tlsLooker();
  const { looker, ca } = setup;
  {
    await using t = await tempHome();
    const out = await cli(["login", ...setup.discoverArgs], {
      home: t.home,
      env: { LOOKER_OAUTH_CA_FILE: ca.caFile },
      person: setup.person(),
    });
    assert.equal(out.code, 0, out.stderr);
  }
  {
    await using t = await tempHome();
    await Deno.mkdir(`${t.dir}/conf`);
    await Deno.copyFile(ca.caFile, `${t.dir}/conf/company-ca.pem`);
    await Deno.writeTextFile(
      `${t.dir}/conf/looker.ini`,
      `[Production]\nbase_url=${looker.emulator.apiUrl}\nca_file=company-ca.pem\n`,
    );
    const out = await cli(
      [
        "login",
        "--ini",
        "conf/looker.ini",
        "--client-id",
        looker.clientId,
        "--redirect-uri",
        looker.redirectUri,
        "--timeout",
        "30",
      ],
      { home: t.home, person: setup.person() },
    );
    assert.equal(out.code, 0, out.stderr);
    const config = JSON.parse(
      await Deno.readTextFile(`${t.home}/config.json`),
    );
    assert.equal(
      config.profiles.default.caFile,
      `${t.dir}/conf/company-ca.pem`,
    );
  }
});

Deno.test("verify_ssl=false is answered with a pointer to --ca-file, never by skipping checks", async () => {
  await using t = await tempHome();
  await using setup = await tlsLooker();
  for (const value of ["false", "0"]) {
    const out = await cli(["login", ...setup.discoverArgs], {
      home: t.home,
      env: { LOOKERSDK_VERIFY_SSL: value },
      person: setup.person(),
    });
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /LOOKERSDK_VERIFY_SSL/);
    assert.match(out.stderr, /--ca-file/);
  }
  await Deno.writeTextFile(
    `${t.dir}/looker.ini`,
    `[Looker]\nbase_url=${setup.looker.emulator.apiUrl}\nverify_ssl=False\n`,
  );
  const out = await cli(["login", ...setup.discoverArgs], {
    home: t.home,
    person: setup.person(),
  });
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, /verify_ssl/);
  assert.equal(setup.looker.emulator.stats.authorizations, 0);
});

Deno.test("login --ca-file with a missing or non-PEM file fails before anything is sent", async () => {
  await using t = await tempHome();
  await using setup = await tlsLooker();
  await Deno.writeTextFile(`${t.dir}/not.pem`, "hello\n");
  for (const file of [`${t.dir}/missing.pem`, `${t.dir}/not.pem`]) {
    const out = await cli(
      ["login", ...setup.discoverArgs, "--ca-file", file],
      { home: t.home, person: setup.person() },
    );
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /hint:/);
    assert.equal(setup.looker.emulator.stats.apiCalls, 0);
  }
});

Deno.test("login --ca-file with a self-signed CA certificate as the server's own: the hint says to reissue it with CA:FALSE, not to pass --ca-file", async () => {
  await using t = await tempHome();
  await using self = await makeSelfSigned();
  await using looker = await startLooker({
    tls: { cert: self.cert, key: self.key },
  });
  const out = await cli([
    "login",
    "--api-url",
    looker.emulator.apiUrl,
    "--client-id",
    looker.clientId,
    "--redirect-uri",
    looker.redirectUri,
    "--ca-file",
    self.caFile,
    "--timeout",
    "30",
  ], { home: t.home, person: scriptedPerson({ caPem: self.cert }) });
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, /CA:FALSE/);
  assert.doesNotMatch(out.stderr, /hint: if it is signed by a private/);
  assert.equal(looker.emulator.stats.authorizations, 0);
});
