import assert from "node:assert/strict";
import { parseRegister } from "../../src/cli/register.ts";
import { startLookerEmulator } from "../../src/emulator/looker_emulator.ts";
import { registerLookerApp } from "../../src/looker/register.ts";
import { oauthErrorWith } from "../_errors.ts";
import { serveRecording } from "../_recording_server.ts";
import { assertParses, cli, tempHome } from "../_cli.ts";

Deno.test("parseRegister() needs --client-id and an absolute --redirect-uri", () => {
  const base = [
    "--client-id",
    "cli",
    "--redirect-uri",
    "http://localhost:8080/callback",
  ];
  assertParses(parseRegister, "register", [
    [base, {
      clientGuid: "cli",
      redirectUri: "http://localhost:8080/callback",
      displayName: undefined,
      description: undefined,
      apiUrl: undefined,
      profile: undefined,
      caFile: undefined,
      ini: undefined,
      section: undefined,
      disabled: false,
      json: false,
    }],
    [[
      ...base,
      "--display-name",
      "CLI",
      "--disabled",
      "--json",
      "--api-url",
      "https://l.example:19999",
    ], {
      clientGuid: "cli",
      redirectUri: "http://localhost:8080/callback",
      displayName: "CLI",
      description: undefined,
      apiUrl: "https://l.example:19999",
      profile: undefined,
      caFile: undefined,
      ini: undefined,
      section: undefined,
      disabled: true,
      json: true,
    }],
    [[], /--client-id is required/],
    [["--client-id", "cli"], /--redirect-uri is required/],
    [
      ["--client-id", "cli", "--redirect-uri", "/callback"],
      /not an absolute URL/,
    ],
    [[...base, "--client-secret", "s"], /unknown flag --client-secret/],
  ]);
});

Deno.test("register creates the app with an API3 key from LOOKERSDK_* and login then works with it", async () => {
  await using t = await tempHome();
  await using emulator = await startLookerEmulator();
  const env = {
    LOOKERSDK_CLIENT_ID: emulator.apiCredentials.clientId,
    LOOKERSDK_CLIENT_SECRET: emulator.apiCredentials.clientSecret,
  };
  const args = [
    "register",
    "--api-url",
    emulator.apiUrl,
    "--client-id",
    "my-cli",
    "--redirect-uri",
    "http://localhost:8123/callback",
    "--display-name",
    "My CLI",
    "--json",
  ];
  const created = await cli(args, { home: t.home, env });
  assert.equal(created.code, 0, created.stderr);
  const app = JSON.parse(created.stdout);
  assert.equal(app.client_guid, "my-cli");
  assert.equal(app.redirect_uri, "http://localhost:8123/callback");
  assert.equal(app.display_name, "My CLI");
  assert.match(created.stderr, /Registered my-cli/);
  // The secret is never echoed.
  assert.ok(!created.stderr.includes(emulator.apiCredentials.clientSecret));
  assert.ok(!created.stdout.includes(emulator.apiCredentials.clientSecret));

  const again = await cli(args, { home: t.home, env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /unchanged/);

  const moved = await cli(
    args.map((a) =>
      a === "http://localhost:8123/callback"
        ? "http://localhost:8124/callback"
        : a
    ),
    { home: t.home, env },
  );
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(
    JSON.parse(moved.stdout).redirect_uri,
    "http://localhost:8124/callback",
  );
  assert.match(moved.stderr, /Updated/);
});

Deno.test("register with a wrong API3 key exits 1 with a hint, and without one exits 2", async () => {
  await using t = await tempHome();
  await using emulator = await startLookerEmulator();
  const base = [
    "register",
    "--api-url",
    emulator.apiUrl,
    "--client-id",
    "x",
    "--redirect-uri",
    "http://localhost:8123/callback",
  ];
  const wrong = await cli(base, {
    home: t.home,
    env: { LOOKERSDK_CLIENT_ID: "nope", LOOKERSDK_CLIENT_SECRET: "nope" },
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /hint: check the API3 client id and secret/);

  const missing = await cli(base, { home: t.home });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /LOOKERSDK_CLIENT_ID/);
});

Deno.test("registerLookerApp() refuses an API3 login token with control characters, never quoting it", async () => {
  const planted = "PLANTED-API3-TOKEN\r\nX-Injected: 1";
  await using looker = serveRecording((seen) =>
    seen.path === "/api/4.0/login"
      ? Response.json({ access_token: planted, token_type: "Bearer" })
      : Response.json({ message: "Not found" }, { status: 404 })
  );
  await assert.rejects(
    registerLookerApp({
      apiUrl: looker.base,
      apiClientId: "id",
      apiClientSecret: "secret",
      clientGuid: "app",
      redirectUri: "http://localhost:8080/callback",
    }),
    (err: unknown) => {
      oauthErrorWith("invalid_response")(err);
      assert.ok(!Deno.inspect(err).includes("PLANTED"), Deno.inspect(err));
      return true;
    },
  );
  assert.deepEqual(looker.requests.map((r) => r.path), ["/api/4.0/login"]);
});
