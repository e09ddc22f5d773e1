// register honours --profile and LOOKER_OAUTH_PROFILE like every command:
// the profile's API host and CA file are used when no --api-url is given.
import assert from "node:assert/strict";
import { makePrivateCa } from "../_tls.ts";
import { cli, signIn, startLooker, tempHome } from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";

Deno.test("register takes the API host of the profile named by --profile or LOOKER_OAUTH_PROFILE", async () => {
  await using t = await tempHome();
  await using work = await startLooker();
  await using other = await startLooker();
  await signIn(t, other);
  // signIn() reads the default token file: sign "work" in by hand.
  const login = await cli(["login", ...work.loginArgs, "--profile", "work"], {
    home: t.home,
    person: scriptedPerson(),
  });
  assert.equal(login.code, 0, login.stderr);
  const key = (looker: typeof work) => ({
    LOOKERSDK_CLIENT_ID: looker.emulator.apiCredentials.clientId,
    LOOKERSDK_CLIENT_SECRET: looker.emulator.apiCredentials.clientSecret,
  });
  const args = [
    "register",
    "--client-id",
    "new-app",
    "--redirect-uri",
    "http://localhost:8125/callback",
  ];
  const byFlag = await cli([...args, "--profile", "work"], {
    home: t.home,
    env: key(work),
  });
  assert.equal(byFlag.code, 0, byFlag.stderr);
  assert.match(byFlag.stderr, /Registered new-app/);

  const byEnv = await cli(args, {
    home: t.home,
    env: { ...key(work), LOOKER_OAUTH_PROFILE: "work" },
  });
  assert.equal(byEnv.code, 0, byEnv.stderr);
  assert.match(byEnv.stderr, /unchanged/);

  // The default profile points at the other instance, which has no such app.
  const byDefault = await cli(args, { home: t.home, env: key(other) });
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.match(byDefault.stderr, /Registered new-app/);
});

Deno.test("register over TLS uses the profile's CA file", async () => {
  await using t = await tempHome();
  const ca = await makePrivateCa();
  try {
    await using looker = await startLooker({
      tls: { cert: ca.cert, key: ca.key },
    });
    const caPem = await Deno.readTextFile(ca.caFile);
    const login = await cli([
      "login",
      "--api-url",
      looker.emulator.apiUrl,
      "--client-id",
      looker.clientId,
      "--redirect-uri",
      looker.redirectUri,
      "--ca-file",
      ca.caFile,
    ], { home: t.home, person: scriptedPerson({ caPem }) });
    assert.equal(login.code, 0, login.stderr);
    const out = await cli([
      "register",
      "--client-id",
      "tls-app",
      "--redirect-uri",
      "http://localhost:8126/callback",
    ], {
      home: t.home,
      env: {
        LOOKERSDK_CLIENT_ID: looker.emulator.apiCredentials.clientId,
        LOOKERSDK_CLIENT_SECRET: looker.emulator.apiCredentials.clientSecret,
      },
    });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /Registered tls-app/);
  } finally {
    await ca[Symbol.asyncDispose]();
  }
});
