// Server-provided text shown to a person (a user's name and e-mail, an API
// error message) cannot drive the terminal: a hostile server's escape
// sequences come out as U+FFFD, and --json stays exact. (A scope with
// control characters is refused at the token endpoint: tests/core.)
import assert from "node:assert/strict";
import { DEFAULT_EMULATOR_USER } from "../../src/emulator/looker_emulator.ts";
import { startOidcProvider } from "../_oidc_provider.ts";
import { serveRecording } from "../_recording_server.ts";
import { cli, signIn, startLooker, tempHome } from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";

/** Retitles the terminal, clears it, moves the cursor home, rings the bell. */
const HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[H\r\x9b31m\u202eAda";

/** Asserts `text` holds no control character but line breaks. */
function assertNoControls(text: string, what: string): void {
  // deno-lint-ignore no-control-regex
  const found = text.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  assert.equal(
    found,
    null,
    `${what} holds U+${
      (found?.[0].codePointAt(0) ?? 0).toString(16).padStart(4, "0")
    }: ${JSON.stringify(text)}`,
  );
}

Deno.test("a hostile display name and e-mail: login's ✓ line and status show no control characters, status --json keeps them exact", async () => {
  await using t = await tempHome();
  await using looker = await startLooker({
    user: {
      ...DEFAULT_EMULATOR_USER,
      display_name: HOSTILE,
      email: `${HOSTILE}@example.com`,
    },
  });
  const login = await signIn(t, looker);
  assert.match(login.stderr, /✓ Signed in to .* as [^]*Ada/);
  assertNoControls(login.stderr, "login's stderr");

  const status = await cli(["status"], { home: t.home });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /\uFFFD/, "the controls are marked, not dropped");
  assertNoControls(status.stdout, "status");
  assertNoControls(status.stderr, "status's stderr");

  const json = await cli(["status", "--json"], { home: t.home });
  assert.equal(json.code, 0, json.stderr);
  const shown = JSON.parse(json.stdout);
  assert.equal(shown.user.displayName, HOSTILE);
  assert.equal(shown.user.email, `${HOSTILE}@example.com`);
});

Deno.test("a hostile API error message: api's stderr shows no control characters", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider();
  await using api = serveRecording(() =>
    Response.json({ message: HOSTILE }, { status: 400 })
  );
  const login = await cli([
    "login",
    "--issuer",
    op.issuer,
    "--client-id",
    op.clientId,
    "--api-url",
    api.base,
  ], { home: t.home, person: scriptedPerson() });
  assert.equal(login.code, 0, login.stderr);
  const call = await cli(["api", "/x"], { home: t.home });
  assert.equal(call.code, 1, call.stderr);
  assert.match(call.stderr, /failed: 400 [^]*Ada/);
  assertNoControls(call.stderr, "api's stderr");
  assert.equal(api.requests.length, 1);
});
