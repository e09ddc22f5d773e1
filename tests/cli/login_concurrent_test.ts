// Two `looker-oauth login`s at once: to two profiles, both profiles are kept
// in config.json; to one profile with two clients, the profile and the token
// file always come from the same sign-in, so the next refresh works.
import assert from "node:assert/strict";
import {
  expireTokenFile,
  readTokenFile,
  runCli,
  SCRIPTED_BROWSER,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { freePort } from "../_ports.ts";

const ROUNDS = 10;

/** Two apps on the emulator, and a barrier that releases code exchanges in pairs. */
async function twoClients() {
  const portB = freePort();
  const looker = await startLooker({
    apps: [{
      client_guid: "second-client",
      redirect_uri: `http://localhost:${portB}/callback`,
      display_name: "second",
      description: "the other login",
      enabled: true,
    }],
  });
  const args = (client: "a" | "b") =>
    client === "a" ? [...looker.loginArgs] : [
      "--looker-url",
      looker.emulator.lookerUrl,
      "--api-url",
      looker.emulator.apiUrl,
      "--client-id",
      "second-client",
      "--redirect-uri",
      `http://localhost:${portB}/callback`,
    ];
  // Both code exchanges are answered together, so both logins save at once.
  let waiting: (() => void)[] = [];
  looker.emulator.tokenResponseFilter = async (response, grantType) => {
    if (grantType !== "authorization_code") return response;
    await new Promise<void>((resolve) => {
      // Never stuck: a lone exchange goes on after 10 s.
      const timer = setTimeout(resolve, 10_000);
      waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (waiting.length === 2) {
        for (const go of waiting) go();
        waiting = [];
      }
    });
    return response;
  };
  return { looker, args };
}

Deno.test(`two logins at once to two profiles keep both profiles (${ROUNDS} rounds)`, async () => {
  const { looker, args } = await twoClients();
  await using _ = looker;
  for (let round = 1; round <= ROUNDS; round++) {
    await using t = await tempHome();
    const [one, two] = await Promise.all([
      runCli(["login", ...args("a"), "--profile", "one"], {
        home: t.home,
        env: { BROWSER: SCRIPTED_BROWSER },
      }),
      runCli(["login", ...args("b"), "--profile", "two"], {
        home: t.home,
        env: { BROWSER: SCRIPTED_BROWSER },
      }),
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    const config = JSON.parse(await Deno.readTextFile(`${t.home}/config.json`));
    assert.deepEqual(
      Object.keys(config.profiles).sort(),
      ["one", "two"],
      `round ${round}: config.json kept ${Object.keys(config.profiles)}`,
    );
    assert.equal(config.profiles.one.clientId, looker.clientId);
    assert.equal(config.profiles.two.clientId, "second-client");
    for (const profile of ["one", "two"]) {
      const token = await runCli(["token", "--profile", profile], {
        home: t.home,
      });
      assert.equal(token.code, 0, token.stderr);
    }
  }
});

Deno.test(`two logins at once to one profile with two clients: the profile and its tokens come from the same sign-in, and the next refresh works (${ROUNDS} rounds)`, async () => {
  const { looker, args } = await twoClients();
  await using _ = looker;
  for (let round = 1; round <= ROUNDS; round++) {
    await using t = await tempHome();
    const [a, b] = await Promise.all([
      runCli(["login", ...args("a")], {
        home: t.home,
        env: { BROWSER: SCRIPTED_BROWSER },
      }),
      runCli(["login", ...args("b")], {
        home: t.home,
        env: { BROWSER: SCRIPTED_BROWSER },
      }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    // The refresh goes out with the profile's client: it must be accepted.
    await expireTokenFile(t.tokenFile());
    const token = await runCli(["token"], { home: t.home });
    assert.equal(token.code, 0, `round ${round}: ${token.stderr}`);
    const after = await readTokenFile(t.tokenFile());
    assert.equal(token.stdout, `${after.tokens.accessToken}\n`);
    const config = JSON.parse(await Deno.readTextFile(`${t.home}/config.json`));
    const clientId = config.profiles.default.clientId;
    const file = after as unknown as {
      clientId?: string;
    };
    assert.equal(
      file.clientId,
      clientId,
      `round ${round}: the token file is from another sign-in than the profile`,
    );
  }
});
