// `looker-oauth login`: in-process with the scripted person, the Looker
// emulator and oidc-provider on loopback; as a process for the whole flow
// (a real $BROWSER program) and for Ctrl-C.
import assert from "node:assert/strict";
import { parseLogin } from "../../src/cli/login.ts";
import { browse } from "../../src/emulator/user_agent.ts";
import { startOidcProvider } from "../_oidc_provider.ts";
import { assertPortFree, freePort, HAS_IPV6 } from "../_ports.ts";
import {
  assertParses,
  cli,
  type CliResult,
  exists,
  expireTokenFile,
  hasStackTrace,
  lines,
  modeOf,
  readTokenFile,
  runCli,
  SCRIPTED_BROWSER,
  signIn,
  spawnCli,
  startCli,
  startLooker,
  tempHome,
  urlIn,
} from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";

Deno.test("parseLogin() reads the setting flags, --timeout, --insecure-http and --no-browser; files and variables are read later", () => {
  const none = {
    profile: undefined,
    flags: {},
    ini: undefined,
    section: undefined,
    timeoutSec: 300,
    insecure: false,
    noBrowser: false,
  };
  assertParses(parseLogin, "login", [
    [[], none],
    [[
      "--looker-url",
      "https://l.example",
      "--api-url=https://l.example:19999",
      "--client-id",
      "cli",
      "--redirect-uri",
      "http://localhost:8080/callback",
      "--scope",
      "cors_api",
      "--ca-file",
      "ca.pem",
    ], {
      ...none,
      flags: {
        lookerUrl: "https://l.example",
        apiUrl: "https://l.example:19999",
        clientId: "cli",
        redirectUri: "http://localhost:8080/callback",
        scope: "cors_api",
        caFile: "ca.pem",
      },
    }],
    [["--issuer", "https://id.example", "--profile", "work"], {
      ...none,
      profile: "work",
      flags: { issuer: "https://id.example" },
    }],
    [["--timeout", "5", "--insecure-http", "--no-browser"], {
      ...none,
      timeoutSec: 5,
      insecure: true,
      noBrowser: true,
    }],
    [["--ini", "my.ini", "--section", "Prod"], {
      ...none,
      ini: "my.ini",
      section: "Prod",
    }],
    [["--timeout", "soon"], /--timeout/],
    [["--timeout", "0"], /--timeout/],
    [["--timeout", "86401"], /--timeout/],
    [["--timeout", ""], /--timeout/],
    [["--lookr-url", "x"], /did you mean --looker-url\?/],
    [["https://l.example"], /unexpected argument/],
  ]);
});

Deno.test("login → token → api /user → status → logout, then token and api need a sign-in (exit 3)", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { emulator } = looker;
  const home = t.home;

  const login = await runCli(["login", ...looker.loginArgs], {
    home,
    env: { BROWSER: SCRIPTED_BROWSER },
  });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, "", "login prints nothing on stdout");
  assert.match(
    login.stderr,
    /^✓ Signed in to \S+ as Ada Lovelace <ada@example\.com>\.$/m,
  );
  assert.equal(emulator.stats.codeExchanges, 1);
  const { tokens } = await readTokenFile(t.tokenFile());

  const token = await runCli(["token"], { home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${tokens.accessToken}\n`, "the token, alone");
  assert.equal(token.stderr, "");

  const api = await runCli(["api", "/user"], { home });
  assert.equal(api.code, 0, api.stderr);
  const user = JSON.parse(api.stdout);
  assert.equal(user.email, "ada@example.com");
  assert.equal(user.display_name, "Ada Lovelace");

  const status = await runCli(["status"], { home });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Ada Lovelace <ada@example\.com>/);
  assert.ok(status.stdout.includes(emulator.lookerUrl));
  const json = await runCli(["status", "--json"], { home });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).signedIn, true);

  const logout = await runCli(["logout"], { home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(emulator.stats.logouts, 1);
  assert.equal(await exists(t.tokenFile()), false);

  for (const args of [["token"], ["api", "/user"], ["status"]]) {
    const after = await runCli(args, { home });
    assert.equal(after.code, 3, `${args.join(" ")}: ${after.stderr}`);
    assert.doesNotMatch(after.stdout, new RegExp(tokens.accessToken));
    assert.match(after.stderr, /looker-oauth login/, "says how to sign in");
  }
  // Nothing reached the server after the logout.
  assert.equal(emulator.stats.refreshes, 0);
});

Deno.test("login keeps the tokens in a 0600 file in a 0700 folder, and the settings in config.json", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  assert.equal(await modeOf(t.tokenFile()), 0o600);
  assert.equal(await modeOf(`${t.home}/tokens`), 0o700);
  assert.equal(await modeOf(t.home), 0o700);
  const config = JSON.parse(await Deno.readTextFile(`${t.home}/config.json`));
  const profile = config.profiles.default;
  assert.equal(profile.clientId, looker.clientId);
  assert.equal(profile.redirectUri, looker.redirectUri);
  assert.equal(profile.apiUrl, looker.emulator.apiUrl);
  const { tokens } = await readTokenFile(t.tokenFile());
  const text = await Deno.readTextFile(`${t.home}/config.json`);
  assert.ok(!text.includes(tokens.accessToken), "config.json holds no token");
  assert.ok(!text.includes(tokens.refreshToken!), "nor a refresh token");
});

Deno.test("login with an access token about to expire: the refresh made for the user lookup is what is saved", async () => {
  await using t = await tempHome();
  // Under the session's 60 s margin: reading the user refreshes first, and
  // the refresh token rotates.
  await using looker = await startLooker({ accessTokenTtl: 30 });
  const { stderr } = await signIn(t, looker);
  assert.equal(looker.emulator.stats.codeExchanges, 1);
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.match(stderr, /Signed in to .* as /);
  // The saved refresh token is the rotated one: using it is no reuse.
  const api = await cli(["api", "/user"], { home: t.home });
  assert.equal(api.code, 0, api.stderr);
  assert.equal(looker.emulator.stats.refreshes, 2);
  assert.equal(looker.emulator.stats.refreshReuses, 0);
});

Deno.test("login --issuer against oidc-provider: discovery, any-port 127.0.0.1 redirect, iss; then token, refresh, status, logout revokes", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider();
  const home = t.home;
  const person = scriptedPerson();
  const login = await cli(
    ["login", "--issuer", op.issuer, "--client-id", op.clientId],
    { home, person },
  );
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, "");
  assert.match(login.stderr, new RegExp(`Signed in to ${op.issuer}`));
  // Who signed in is read from the ID token's claims (its subject).
  assert.match(login.stderr, / as [^\s<]+\./);
  // The redirect went to 127.0.0.1 on a port the receiver chose.
  const url = urlIn(login.stderr);
  const redirect = new URL(url.searchParams.get("redirect_uri")!);
  assert.equal(redirect.hostname, "127.0.0.1");
  assert.notEqual(redirect.port, "");
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  const [visit] = person.visits;
  assert.equal(visit?.callback?.status, 200, "the receiver accepted the iss");
  assert.equal(op.stats.serverErrors.length, 0);

  const { tokens } = await readTokenFile(t.tokenFile());
  assert.ok(tokens.refreshToken, "offline_access gave a refresh token");
  const token = await cli(["token"], { home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${tokens.accessToken}\n`);

  await expireTokenFile(t.tokenFile());
  const refreshed = await cli(["token"], { home });
  assert.equal(refreshed.code, 0, refreshed.stderr);
  assert.equal(op.stats.refreshes, 1);
  const after = await readTokenFile(t.tokenFile());
  assert.equal(refreshed.stdout, `${after.tokens.accessToken}\n`);
  assert.notEqual(after.tokens.accessToken, tokens.accessToken);

  const status = await cli(["status", "--json"], { home });
  assert.equal(status.code, 0, status.stderr);
  const shown = JSON.parse(status.stdout);
  assert.deepEqual(shown.server, { kind: "oauth", issuer: op.issuer });
  assert.equal(shown.clientId, op.clientId);

  const logout = await cli(["logout"], { home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.ok(op.stats.revocations >= 1, "the tokens were revoked");
  assert.equal(await exists(t.tokenFile()), false);
  assert.equal((await cli(["token"], { home })).code, 3);
});

Deno.test("login --no-browser: prints the URL, asks again after a wrong paste, then takes the redirected URL from stdin", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  // A browser that would fail the test if it were opened.
  const person = scriptedPerson();
  await using cli = startCli(["login", ...looker.loginArgs, "--no-browser"], {
    home: t.home,
    person,
  });
  await cli.stderr.waitFor(/Then paste here/);
  const url = urlIn(cli.stderr.text);
  // The person's browser, on another machine: it never reaches the
  // receiver; the address it lands on is what the person copies.
  let landed: URL | undefined;
  const page = await browse(url, {
    fetch: (input, init) => {
      const target = new URL(input instanceof Request ? input.url : input);
      if (target.origin === new URL(looker.redirectUri).origin) {
        landed = target;
        return Promise.resolve(new Response("unreachable", { status: 502 }));
      }
      return fetch(input, init);
    },
  });
  assert.equal(page.status, 502);
  assert.ok(landed, "the browser was sent to the redirect URI");

  await cli.write("this is not a URL\n");
  await cli.stderr.waitFor(/Paste the full address/);
  const forged = new URL(landed);
  forged.searchParams.set("state", "not-this-sign-in");
  await cli.write(`${forged.href}\n`);
  await cli.stderr.waitFor(/(Paste the full address[\s\S]*){2}/);
  assert.equal(looker.emulator.stats.codeExchanges, 0, "nothing exchanged");
  await cli.write(`${landed.href}\n`);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /Signed in to .* as Ada Lovelace/);
  assert.equal(looker.emulator.stats.codeExchanges, 1);
  assert.ok(await exists(t.tokenFile()));
  assert.deepEqual(person.opened, [], "no browser opened");
});

Deno.test("login --no-browser with nothing pasted: the browser on this machine may still finish the sign-in", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await using cli = startCli(["login", ...looker.loginArgs, "--no-browser"], {
    home: t.home,
  });
  await cli.stderr.waitFor(/Then paste here/);
  await cli.closeStdin(); // stdin ends: the receiver keeps waiting
  const page = await browse(urlIn(cli.stderr.text));
  assert.equal(page.status, 200);
  assert.equal(page.url.pathname, "/callback");
  assert.match(page.body, /Signed in/);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(looker.emulator.stats.codeExchanges, 1);
  assert.ok(await exists(t.tokenFile()));
});

for (const address of ["127.0.0.1", "::1"] as const) {
  Deno.test({
    name: `a localhost redirect URI reached over ${address} signs in`,
    ignore: address === "::1" && !HAS_IPV6,
    fn: async () => {
      await using t = await tempHome();
      await using looker = await startLooker();
      const person = scriptedPerson({ loopback: address });
      const login = await cli(["login", ...looker.loginArgs], {
        home: t.home,
        person,
      });
      assert.equal(login.code, 0, login.stderr);
      const [visit] = person.visits;
      assert.deepEqual(visit?.callback, {
        status: 200,
        path: "/callback",
        via: address,
      });
      assert.ok(await exists(t.tokenFile()));
    },
  });
}

Deno.test("login with the redirect port in use: exit 1, and the message names the port", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: looker.port });
  try {
    const login = await cli(["login", ...looker.loginArgs], {
      home: t.home,
      person: scriptedPerson(),
    });
    assert.equal(login.code, 1, login.stderr);
    assert.match(login.stderr, new RegExp(`port ${looker.port}\\b`));
    assert.match(login.stderr, /--redirect-uri/, "says how to fix it");
    assert.ok(!hasStackTrace(login.stderr), login.stderr);
    assert.equal(looker.emulator.stats.authorizations, 0);
    assert.equal(await exists(t.tokenFile()), false);
  } finally {
    busy.close();
  }
});

Deno.test("login --timeout 1 with a browser that never comes back: exit 1, port freed, no token file", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const login = await cli(["login", ...looker.loginArgs, "--timeout", "1"], {
    home: t.home,
    person: scriptedPerson({ away: true }),
  });
  assert.equal(login.code, 1, login.stderr);
  assert.match(login.stderr, /no answer from the browser within 1 s/);
  assert.ok(!hasStackTrace(login.stderr), login.stderr);
  assertPortFree(looker.port);
  assert.equal(await exists(t.tokenFile()), false);
  assert.equal(looker.emulator.stats.codeExchanges, 0);
});

Deno.test("Ctrl-C (SIGINT) during login: exit 130, port freed, no token file", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await using cli = spawnCli(["login", ...looker.loginArgs], {
    home: t.home,
    env: { BROWSER: "true" }, // opens nothing: the person never comes back
  });
  await cli.stderr.waitFor(/Ctrl-C to cancel/);
  cli.child.kill("SIGINT");
  const result = await cli.result();
  assert.equal(result.code, 130, result.stderr);
  assert.equal(result.signal, null, "it exited by itself, not killed");
  assert.match(result.stderr, /cancelled/);
  assertPortFree(looker.port);
  assert.equal(await exists(t.tokenFile()), false);
  assert.equal(looker.emulator.stats.codeExchanges, 0);
});

/**
 * A neighbour's connection to the redirect port that sends a request head
 * announcing a huge body, then nothing: the receiver answers 421 and the
 * socket stays open.
 */
async function holdHalfRequest(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      "POST /x HTTP/1.1\r\nHost: evil\r\nContent-Length: 1000000000\r\n\r\n",
    ),
  );
  const head = new Uint8Array(64);
  const n = await conn.read(head);
  assert.match(new TextDecoder().decode(head.subarray(0, n ?? 0)), / 421 /);
  return conn;
}

/** The run's result, or `undefined` when it is still running after `ms`. */
async function exitWithin(
  cli: { result(): Promise<CliResult> },
  ms: number,
): Promise<CliResult | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      cli.result(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("login while a neighbour holds a half-sent request open: the tokens are saved and login exits", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await using cli = startCli(["login", ...looker.loginArgs, "--no-browser"], {
    home: t.home,
  });
  await cli.stderr.waitFor(/Then paste here/);
  const neighbour = await holdHalfRequest(looker.port);
  try {
    const page = await browse(urlIn(cli.stderr.text));
    assert.equal(page.status, 200);
    assert.match(page.body, /Signed in/);
    const result = await exitWithin(cli, 15_000);
    assert.ok(result, "login still running 15 s after the sign-in");
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await exists(t.tokenFile()));
    assertPortFree(looker.port, ["127.0.0.1"]);
  } finally {
    neighbour.close();
  }
});

Deno.test("Ctrl-C during login while a neighbour holds a half-sent request open: exit 130", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await using cli = spawnCli(["login", ...looker.loginArgs], {
    home: t.home,
    env: { BROWSER: "true" }, // opens nothing: the person never comes back
  });
  await cli.stderr.waitFor(/Ctrl-C to cancel/);
  const neighbour = await holdHalfRequest(looker.port);
  try {
    cli.child.kill("SIGINT");
    const result = await exitWithin(cli, 10_000);
    assert.ok(result, "login still running 10 s after Ctrl-C");
    assert.equal(result.code, 130, result.stderr);
    assert.equal(await exists(t.tokenFile()), false);
  } finally {
    neighbour.close();
  }
});

Deno.test("Ctrl-C during login, in-process: the interrupt is watched only while waiting, exit 130, port freed", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await using cli = startCli(["login", ...looker.loginArgs], {
    home: t.home,
    person: scriptedPerson({ away: true }),
  });
  await cli.stderr.waitFor(/Ctrl-C to cancel/);
  assert.equal(cli.pressCtrlC(), true, "login watched Ctrl-C");
  const result = await cli.result();
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /cancelled/);
  assert.equal(cli.pressCtrlC(), false, "and stopped watching it");
  assertPortFree(looker.port);
  assert.equal(await exists(t.tokenFile()), false);
  assert.equal(looker.emulator.stats.codeExchanges, 0);
});

Deno.test("a declined consent: exit 1, the message says so, no token file", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const person = scriptedPerson({ decision: "deny" });
  const login = await cli(["login", ...looker.loginArgs], {
    home: t.home,
    person,
  });
  assert.equal(login.code, 1, login.stderr);
  assert.match(login.stderr, /declined/);
  assert.equal(login.stdout, "");
  assert.ok(!hasStackTrace(login.stderr), login.stderr);
  assert.equal(await exists(t.tokenFile()), false);
  assert.equal(looker.emulator.stats.codeExchanges, 0);
  const [visit] = person.visits;
  assert.equal(visit?.callback?.status, 403, "the page says declined too");
});

Deno.test("a 503 at the code exchange: exit 1, no token file, the exchange not retried", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  looker.emulator.tokenResponseFilter = async (response, grantType) => {
    if (grantType !== "authorization_code") return response;
    await response.body?.cancel();
    return new Response("<html><body>Service Unavailable</body></html>", {
      status: 503,
      headers: { "content-type": "text/html" },
    });
  };
  const login = await cli(["login", ...looker.loginArgs], {
    home: t.home,
    person: scriptedPerson(),
  });
  assert.equal(login.code, 1, login.stderr);
  assert.match(login.stderr, /503/);
  assert.ok(!hasStackTrace(login.stderr), login.stderr);
  assert.equal(looker.emulator.stats.codeExchanges, 1);
  assert.equal(await exists(t.tokenFile()), false);
});

Deno.test("settings: flags > LOOKER_OAUTH_* > LOOKERSDK_BASE_URL > looker.ini > the saved profile", async () => {
  await using t = await tempHome();
  const home = t.home;
  const p2 = freePort();
  await using e1 = await startLooker(); // the first sign-in's, and the flags'
  await using e2 = await startLooker({ port: e1.port }); // --api-url alone
  await using e3 = await startLooker({ port: p2 }); // looker.ini's
  await using e4 = await startLooker({ port: p2 }); // LOOKERSDK_BASE_URL's
  await using e5 = await startLooker({ port: p2 }); // LOOKER_OAUTH_*'s
  const exchanges = () =>
    [e1, e2, e3, e4, e5].map((e) => e.emulator.stats.codeExchanges);
  const login = async (args: string[], env: Record<string, string> = {}) => {
    const result = await cli(["login", ...args], {
      home,
      env,
      person: scriptedPerson(),
    });
    assert.equal(result.code, 0, result.stderr);
  };
  const ini = (lines: string[]) =>
    Deno.writeTextFile(
      `${t.dir}/looker.ini`,
      ["[Looker]", ...lines, "verify_ssl=True", ""].join("\n"),
    );

  // 1. Flags; the profile is saved.
  await login([...e1.loginArgs]);
  assert.deepEqual(exchanges(), [1, 0, 0, 0, 0]);
  // 2. No flags: the saved profile.
  await login([]);
  assert.deepEqual(exchanges(), [2, 0, 0, 0, 0]);
  // 3. Another server by its API URL alone: its UI host comes from its
  // /api/versions, not from the profile (which names another Looker); the
  // client id and redirect URI still come from the profile.
  await login(["--api-url", e2.emulator.apiUrl]);
  assert.deepEqual(exchanges(), [2, 1, 0, 0, 0]);
  // 4. looker.ini in the working directory beats the profile, its
  // redirect_uri too.
  await ini([
    `base_url=${e3.emulator.apiUrl}`,
    `looker_url=${e3.emulator.lookerUrl}`,
    `redirect_uri=${e3.redirectUri}`,
  ]);
  await login([]);
  assert.deepEqual(exchanges(), [2, 1, 1, 0, 0]);
  // 5. LOOKERSDK_BASE_URL beats looker.ini's base_url.
  await ini([
    `base_url=${e3.emulator.apiUrl}`,
    `redirect_uri=${e3.redirectUri}`,
  ]);
  const sdk = { LOOKERSDK_BASE_URL: e4.emulator.apiUrl };
  await login([], sdk);
  assert.deepEqual(exchanges(), [2, 1, 1, 1, 0]);
  // 6. LOOKER_OAUTH_* beats LOOKERSDK_BASE_URL.
  const own = {
    ...sdk,
    LOOKER_OAUTH_LOOKER_URL: e5.emulator.lookerUrl,
    LOOKER_OAUTH_API_URL: e5.emulator.apiUrl,
  };
  await login([], own);
  assert.deepEqual(exchanges(), [2, 1, 1, 1, 1]);
  // 7. Flags beat everything, the redirect URI included.
  await login([...e1.loginArgs], own);
  assert.deepEqual(exchanges(), [3, 1, 1, 1, 1]);

  const status = await cli(["status", "--json"], { home });
  assert.equal(status.code, 0, status.stderr);
  const shown = JSON.parse(status.stdout);
  assert.deepEqual(shown.server, {
    kind: "looker",
    lookerUrl: e1.emulator.lookerUrl,
    apiUrl: e1.emulator.apiUrl,
  });
  assert.equal(shown.redirectUri, e1.redirectUri);
  // Every sign-in was a clean one: no code or refresh token refused.
  for (const e of [e1, e2, e3, e4, e5]) {
    assert.equal(e.emulator.stats.refreshReuses, 0);
  }
});

Deno.test("login's usage errors exit 2 before any network or browser", async () => {
  await using t = await tempHome();
  const person = scriptedPerson();
  const cases: [string[], RegExp][] = [
    [["login", "--client-id", "x"], /no server to sign in to/],
    [["login", "--looker-url", "http://127.0.0.1:9"], /no client id/],
    [["login", "--issuer", "http://127.0.0.1:9"], /no client id/],
    [
      [
        "login",
        "--looker-url",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--timeout",
        "soon",
      ],
      /--timeout/,
    ],
    // Beyond what a timer holds (2,147,483 s), and beyond a day.
    ...["2147484", "1e10", "86401", "0", "-5", "Infinity", ""].map((
      value,
    ): [string[], RegExp] => [
      [
        "login",
        "--looker-url",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--timeout",
        value,
      ],
      /--timeout takes a number of seconds above 0 and at most 86400/,
    ]),
    [
      [
        "login",
        "--looker-url",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--redirect-uri",
        "http://localhost:0/callback",
      ],
      /port 0.*registered redirect URI/,
    ],
  ];
  const results = await Promise.all(
    cases.map(([args]) => cli(args, { home: t.home, person })),
  );
  results.forEach((result, i) => {
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, cases[i]![1]);
    assert.equal(lines(result.stderr).length, 2, result.stderr);
    assert.match(result.stderr, /looker-oauth login --help/);
  });
  assert.deepEqual(person.opened, [], "no browser opened");
  assert.equal(await exists(t.home), false, "nothing written");
});

Deno.test("login --timeout 86400 is accepted: the wait does not end at once", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await using cli = startCli(
    ["login", ...looker.loginArgs, "--timeout", "86400"],
    { home: t.home, person: scriptedPerson({ away: true }) },
  );
  await cli.stderr.waitFor(/Ctrl-C to cancel/);
  // An overflowing timer fires within milliseconds; this one must not.
  const early = await exitWithin(cli, 1_500);
  assert.equal(early, undefined, early?.stderr);
  cli.pressCtrlC();
  const result = await cli.result();
  assert.equal(result.code, 130, result.stderr);
});

Deno.test("login with a redirect URI that is not http says which scheme is wrong", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider();
  for (const uri of ["myapp://callback", "com.example.app:/cb"]) {
    const login = await cli([
      "login",
      "--issuer",
      op.issuer,
      "--client-id",
      op.clientId,
      "--redirect-uri",
      uri,
    ], { home: t.home, person: scriptedPerson() });
    assert.equal(login.code, 1, login.stderr);
    assert.match(login.stderr, new RegExp(`uses ${uri.split(":")[0]}:`));
    assert.doesNotMatch(login.stderr, /\bnull\b/);
    assert.ok(!hasStackTrace(login.stderr), login.stderr);
  }
});

for (
  const [name, tamper] of [
    ["a forged iss", { iss: "http://127.0.0.1:1" }],
    ["no iss (the server promises one, RFC 9207)", { iss: null }],
  ] as const
) {
  Deno.test(`login --issuer with ${name} in the callback: exit 1, the code is never exchanged`, async () => {
    await using t = await tempHome();
    await using op = await startOidcProvider();
    const person = scriptedPerson({ tamper: { ...tamper } });
    const login = await cli(
      ["login", "--issuer", op.issuer, "--client-id", op.clientId],
      { home: t.home, person },
    );
    assert.equal(login.code, 1, login.stderr);
    assert.match(login.stderr, /\biss\b/);
    assert.ok(!hasStackTrace(login.stderr), login.stderr);
    assert.equal(op.stats.tokenRequests, 0, "no code exchange");
    assert.equal(await exists(t.tokenFile()), false);
    const [visit] = person.visits;
    assert.equal(visit?.callback?.status, 400);
  });
}

Deno.test("login --issuer to a provider that requires a nonce: signs in, and the ID token carries the nonce sent", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider({ requireNonce: true });
  const login = await cli(
    ["login", "--issuer", op.issuer, "--client-id", op.clientId],
    { home: t.home, person: scriptedPerson() },
  );
  assert.equal(login.code, 0, login.stderr);
  const nonce = urlIn(login.stderr).searchParams.get("nonce");
  assert.ok(nonce, "a nonce was sent with openid");
  const { tokens } = await readTokenFile(t.tokenFile());
  const payload = tokens.idToken!.split(".")[1]!;
  const claims = JSON.parse(
    atob(payload.replace(/-/g, "+").replace(/_/g, "/")),
  );
  assert.equal(claims.nonce, nonce);
  assert.equal(op.stats.tokenRequests, 1);
});

Deno.test("login --issuer to a provider that matches redirect URIs exactly: the fixed-port hint comes while waiting and on timeout, then --redirect-uri signs in", async () => {
  await using t = await tempHome();
  const fixed = `http://127.0.0.1:${freePort()}/callback`;
  await using op = await startOidcProvider({
    exactRedirectUris: true,
    redirectUris: [fixed],
  });
  const person = scriptedPerson();
  const args = ["login", "--issuer", op.issuer, "--client-id", op.clientId];
  const login = await cli([...args, "--timeout", "3"], {
    home: t.home,
    person,
  });
  assert.equal(login.code, 1, login.stderr);
  const picked = urlIn(login.stderr).searchParams.get("redirect_uri")!;
  assert.notEqual(new URL(picked).port, "");
  const hint = `--redirect-uri ${picked}`;
  const first = login.stderr.indexOf(hint);
  const timedOut = login.stderr.search(
    /looker-oauth: no answer from the browser/,
  );
  assert.ok(first !== -1, login.stderr);
  assert.ok(
    timedOut > first,
    `the hint came before the timeout:\n${login.stderr}`,
  );
  assert.ok(
    login.stderr.indexOf(hint, timedOut) > timedOut,
    "and again with the timeout",
  );
  assert.ok(!hasStackTrace(login.stderr), login.stderr);
  const [visit] = person.visits;
  assert.equal(visit?.status, 400, "the provider showed its error page");
  assert.equal(op.stats.tokenRequests, 0);
  assert.equal(await exists(t.tokenFile()), false);

  const again = await cli([...args, "--redirect-uri", fixed], {
    home: t.home,
    person: scriptedPerson(),
  });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /--redirect-uri/);
  assert.equal(
    urlIn(again.stderr).searchParams.get("redirect_uri"),
    fixed,
  );
});

Deno.test("login --issuer to a provider with inaccurate metadata (no none, no refresh_token grant, iss not advertised): signs in, refreshes, and still refuses a forged iss", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider({
    editMetadata: (metadata) => {
      metadata.token_endpoint_auth_methods_supported = ["client_secret_basic"];
      metadata.grant_types_supported = ["authorization_code"];
      delete metadata.authorization_response_iss_parameter_supported;
    },
  });
  const args = ["login", "--issuer", op.issuer, "--client-id", op.clientId];
  const login = await cli(args, { home: t.home, person: scriptedPerson() });
  assert.equal(login.code, 0, login.stderr);
  await expireTokenFile(t.tokenFile());
  const token = await cli(["token"], { home: t.home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(op.stats.refreshes, 1);
  const { tokens } = await readTokenFile(t.tokenFile());
  assert.equal(token.stdout, `${tokens.accessToken}\n`);

  const forged = await cli(args, {
    home: t.home,
    person: scriptedPerson({ tamper: { iss: "http://127.0.0.1:1" } }),
  });
  assert.equal(forged.code, 1, forged.stderr);
  assert.match(forged.stderr, /\biss\b/);
  assert.equal(
    op.stats.tokenRequests,
    2,
    "the forged callback's code was not exchanged",
  );
});

Deno.test("unsafe endpoints are refused before any browser starts", async (t) => {
  await using home = await tempHome();
  let metadata: Record<string, string> = {};
  await using issuer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json(metadata),
  );
  const origin = `http://127.0.0.1:${issuer.addr.port}`;
  const cases: Record<string, [Record<string, string>, RegExp]> = {
    "an http: authorization endpoint off this machine": [
      { authorization_endpoint: "http://login.example.com/authorize" },
      /authorization_endpoint uses http:\/\/ on login\.example\.com/,
    ],
    "an http: token endpoint off this machine": [
      { token_endpoint: "http://login.example.com/token" },
      /token_endpoint uses http:\/\/ on login\.example\.com/,
    ],
    "a javascript: authorization endpoint": [
      { authorization_endpoint: "javascript:alert(document.cookie)//" },
      /authorization_endpoint must be an https: URL, not javascript:/,
    ],
    "a file: authorization endpoint": [
      { authorization_endpoint: "file:///etc/passwd" },
      /authorization_endpoint must be an https: URL, not file:/,
    ],
    "an authorization endpoint with shell metacharacters": [
      { authorization_endpoint: `${origin}/auth$(touch\${IFS}PWNED)` },
      /refusing to open a URL containing .*shell metacharacters/,
    ],
  };
  for (const [name, [endpoints, says]] of Object.entries(cases)) {
    await t.step(name, async () => {
      metadata = {
        issuer: origin,
        authorization_endpoint: `${origin}/auth`,
        token_endpoint: `${origin}/token`,
        response_types_supported: "code",
        ...endpoints,
      };
      const person = scriptedPerson();
      const login = await cli(
        ["login", "--issuer", origin, "--client-id", "cli"],
        { home: home.home, person },
      );
      assert.equal(login.code, 1, login.stderr);
      assert.match(login.stderr, says);
      assert.doesNotMatch(login.stderr, /Opening the browser/);
      assert.ok(!hasStackTrace(login.stderr), login.stderr);
      assert.deepEqual(person.opened, [], "no browser was started");
      assert.equal(await exists(`${home.dir}/PWNED`), false);
      assert.equal(await exists(home.tokenFile()), false);
    });
  }
  await t.step(
    "Looker on http: off this machine, without --insecure-http",
    async () => {
      const login = await cli([
        "login",
        "--looker-url",
        "http://looker.example.com",
        "--api-url",
        "http://looker.example.com:19999",
        "--client-id",
        "cli",
      ], { home: home.home, person: scriptedPerson() });
      assert.equal(login.code, 1, login.stderr);
      assert.match(login.stderr, /http:\/\/ on looker\.example\.com/);
      assert.match(login.stderr, /not a loopback host/);
      assert.doesNotMatch(login.stderr, /Opening the browser/);
    },
  );
});
