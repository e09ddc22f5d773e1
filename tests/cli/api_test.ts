// `looker-oauth api`, end to end against the Looker emulator.
import assert from "node:assert/strict";
import { parseApi } from "../../src/cli/api.ts";
import { startOidcProvider } from "../_oidc_provider.ts";
import {
  assertParses,
  cli,
  exists,
  hasStackTrace,
  readTokenFile,
  signIn,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";
import { serveRecording } from "../_recording_server.ts";
import { closedPort } from "../_ports.ts";

Deno.test("parseApi() reads the path, -X, -d, -q, -H, -i and --profile; the method follows --data", () => {
  const none = {
    data: undefined,
    profile: undefined,
    query: [],
    headers: [],
    include: false,
  };
  assertParses(parseApi, "api", [
    [["/user"], { ...none, path: "/user", method: "GET" }],
    [["/user", "--data", "{}"], {
      ...none,
      path: "/user",
      method: "POST",
      data: "{}",
    }],
    [["-X", "patch", "/user/1", "-d", "@body.json"], {
      ...none,
      path: "/user/1",
      method: "PATCH",
      data: "@body.json",
    }],
    [["--method=DELETE", "/x", "--profile", "work"], {
      ...none,
      path: "/x",
      method: "DELETE",
      profile: "work",
    }],
    [["--data", "-", "/x"], { ...none, path: "/x", method: "POST", data: "-" }],
    [["/x", "-q", "a=1", "-q", "b=2", "-H", "X-A: b", "-i"], {
      ...none,
      path: "/x",
      method: "GET",
      query: [["a", "1"], ["b", "2"]],
      headers: [["X-A", "b"]],
      include: true,
    }],
    [[], /which path\?/],
    [["/a", "/b"], /unexpected argument: \/b/],
    [["-X", "P@TCH", "/x"], /not a method the Looker API takes/],
    [["-X", "GTE", "/x"], /not a method the Looker API takes/],
    [["/x", "--methd", "GET"], /--methd/],
  ]);
});

Deno.test("api /user prints the JSON body; /api/4.0/user and the full API URL work too", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const paths = [
    "/user",
    "/api/4.0/user",
    `${looker.emulator.apiUrl}/api/4.0/user`,
  ];
  for (const path of paths) {
    const api = await cli(["api", path], { home: t.home });
    assert.equal(api.code, 0, api.stderr);
    assert.equal(api.stderr, "");
    const user = JSON.parse(api.stdout);
    assert.deepEqual(
      { id: user.id, email: user.email, name: user.display_name },
      { id: "1", email: "ada@example.com", name: "Ada Lovelace" },
    );
  }
  assert.equal(looker.emulator.stats.refreshes, 0);
});

Deno.test("api on a path Looker does not have: exit 1 with Looker's message on stderr", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const api = await cli(["api", "/no_such_thing"], { home: t.home });
  assert.equal(api.code, 1, api.stderr);
  assert.match(
    api.stderr,
    /^looker-oauth: GET \/api\/4\.0\/no_such_thing failed: 404 Not found$/m,
  );
  assert.ok(!hasStackTrace(api.stderr), api.stderr);
  // The body is still the result, on stdout.
  assert.equal(JSON.parse(api.stdout).message, "Not found");
});

Deno.test("api --data: JSON, @file, - (stdin), -X PATCH; the method defaults to POST", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const home = t.home;
  const app = (guid: string) => `/oauth_client_apps/${guid}`;

  // --data JSON, POST by default: registers an app.
  const created = await cli([
    "api",
    app("from-json"),
    "--data",
    JSON.stringify({
      redirect_uri: "http://localhost:9999/callback",
      display_name: "From JSON",
    }),
  ], { home });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout).display_name, "From JSON");

  // --data @file.
  const file = `${t.dir}/body.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      redirect_uri: "http://localhost:9998/callback",
      display_name: "From a file",
    }),
  );
  const fromFile = await cli(
    ["api", app("from-file"), "--data", `@${file}`],
    {
      home,
    },
  );
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(JSON.parse(fromFile.stdout).display_name, "From a file");

  // -X PATCH with --data - (stdin).
  const patched = await cli(
    ["api", "-X", "PATCH", app("from-file"), "--data", "-"],
    { home, stdin: JSON.stringify({ display_name: "Patched from stdin" }) },
  );
  assert.equal(patched.code, 0, patched.stderr);
  const body = JSON.parse(patched.stdout);
  assert.equal(body.display_name, "Patched from stdin");
  assert.equal(body.redirect_uri, "http://localhost:9998/callback");

  // The server saw all of it.
  const list = await cli(["api", "/oauth_client_apps"], { home });
  assert.equal(list.code, 0, list.stderr);
  const names = JSON.parse(list.stdout).map((a: { display_name: string }) =>
    a.display_name
  ).sort();
  assert.deepEqual(names, [
    "From JSON",
    "Patched from stdin",
    "looker-oauth tests",
  ]);
});

Deno.test("api --data that is not JSON, or a file that is missing: exit 2, nothing sent", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const calls = looker.emulator.stats.apiCalls;
  const cases: { args: string[]; stdin?: string; says: RegExp }[] = [
    { args: ["--data", "{not json"], says: /not valid JSON/ },
    { args: ["--data", "-"], stdin: "nope", says: /not valid JSON/ },
    { args: ["--data", `@${t.dir}/missing.json`], says: /cannot read/ },
    { args: ["-X", "P@TCH", "--data", "{}"], says: /not a method/ },
    { args: ["-X", "PUST", "--data", "{}"], says: /not a method/ },
  ];
  for (const { args, stdin, says } of cases) {
    const api = await cli(["api", "/user", ...args], {
      home: t.home,
      ...(stdin === undefined ? {} : { stdin }),
    });
    assert.equal(api.code, 2, api.stderr);
    assert.equal(api.stdout, "");
    assert.match(api.stderr, says);
    assert.match(api.stderr, /looker-oauth api --help/);
  }
  assert.equal(looker.emulator.stats.apiCalls, calls, "nothing was sent");
});

Deno.test("api --data @file with bytes that are not UTF-8: exit 2, nothing sent (no U+FFFD substitution)", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const calls = looker.emulator.stats.apiCalls;
  const file = `${t.dir}/latin1.json`;
  const json =
    '{"redirect_uri":"http://localhost:9997/callback","display_name":"Zo\u00eb"}';
  // The same JSON in ISO-8859-1: the byte 0xEB is not UTF-8.
  await Deno.writeFile(file, Uint8Array.from(json, (c) => c.charCodeAt(0)));
  const app = "/oauth_client_apps/latin1";
  const api = await cli(["api", app, "--data", `@${file}`], {
    home: t.home,
  });
  assert.equal(api.code, 2, api.stderr);
  assert.match(api.stderr, /not UTF-8/);
  assert.equal(looker.emulator.stats.apiCalls, calls, "nothing was sent");
  // The same body in UTF-8 goes through unchanged.
  await Deno.writeTextFile(file, json);
  const ok = await cli(["api", app, "--data", `@${file}`], {
    home: t.home,
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).display_name, "Zo\u00eb");
});

Deno.test("api with a full URL on another origin is refused: the token is never sent there", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  await using elsewhere = serveRecording(() => Response.json({ stolen: true }));
  const origin = elsewhere.base;
  for (
    const url of [
      `${origin}/api/4.0/user`,
      // The same host as the API, another port: another origin.
      `${looker.emulator.lookerUrl}/api/4.0/user`,
    ]
  ) {
    const api = await cli(["api", url], { home: t.home });
    assert.equal(api.code, 2, api.stderr);
    assert.equal(api.stdout, "");
    assert.match(api.stderr, /refusing to send the access token/);
    assert.ok(!api.stderr.includes(file.tokens.accessToken));
  }
  const seen = elsewhere.requests.map((r) => r.headers.get("authorization"));
  assert.deepEqual(seen, [], "no request reached the other origin");
});

Deno.test("api with an --issuer profile and no --api-url: the token goes to the issuer's origin only (exit 2 elsewhere)", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider();
  const login = await cli(
    ["login", "--issuer", op.issuer, "--client-id", op.clientId],
    { home: t.home, person: scriptedPerson() },
  );
  assert.equal(login.code, 0, login.stderr);
  const { tokens } = await readTokenFile(t.tokenFile());
  await using elsewhere = serveRecording(() => Response.json({ stolen: true }));
  for (
    const url of [`${elsewhere.base}/x`, "http://192.0.2.1/", "https://a.test/"]
  ) {
    const api = await cli(["api", url], { home: t.home });
    assert.equal(api.code, 2, `${url}: ${api.stderr}`);
    assert.equal(api.stdout, "");
    assert.match(api.stderr, /refusing to send the access token/);
    assert.match(api.stderr, new RegExp(`only there`));
    assert.ok(!api.stderr.includes(tokens.accessToken));
  }
  assert.deepEqual(elsewhere.requests, [], "nothing reached the other server");
  // The issuer's own origin (its userinfo endpoint) gets the token.
  const me = await cli(["api", `${op.issuer}/me`], { home: t.home });
  assert.equal(me.code, 0, me.stderr);
  assert.equal(typeof JSON.parse(me.stdout).sub, "string");
});

Deno.test("api refuses plain http to an API URL off loopback unless the profile was signed in with --insecure-http", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider();
  const login = await cli([
    "login",
    "--issuer",
    op.issuer,
    "--client-id",
    op.clientId,
    "--api-url",
    "http://192.0.2.1/",
  ], { home: t.home, person: scriptedPerson() });
  assert.equal(login.code, 0, login.stderr);
  const api = await cli(["api", "/x"], { home: t.home });
  assert.equal(api.code, 2, api.stderr);
  assert.match(api.stderr, /plain http to 192\.0\.2\.1/);
  assert.match(api.stderr, /--insecure-http/, "says how to allow it");
});

Deno.test("api when the API cannot be reached: exit 1, naming the host and why (refused, DNS, TLS)", async () => {
  await using t = await tempHome();
  await using op = await startOidcProvider();
  await using plainHttp = serveRecording(() => new Response("plain http"));
  const refused = `127.0.0.1:${closedPort()}`;
  const tlsTo = plainHttp.base.replace("http://", "https://");
  const cases: [string, RegExp][] = [
    [
      `http://${refused}`,
      new RegExp(`could not reach ${refused}: connection refused`),
    ],
    [
      "https://no-such-host.invalid",
      /could not reach no-such-host\.invalid: .*DNS/,
    ],
    [tlsTo, new RegExp(`could not reach ${new URL(tlsTo).host}: .*TLS`)],
  ];
  for (const [apiUrl, said] of cases) {
    const login = await cli([
      "login",
      "--issuer",
      op.issuer,
      "--client-id",
      op.clientId,
      "--api-url",
      apiUrl,
    ], { home: t.home, person: scriptedPerson() });
    assert.equal(login.code, 0, login.stderr);
    const api = await cli(["api", "/x"], { home: t.home });
    assert.equal(api.code, 1, api.stderr);
    assert.match(api.stderr, said);
    assert.doesNotMatch(api.stderr, /fetch failed/);
    assert.ok(!hasStackTrace(api.stderr), api.stderr);
  }
});

Deno.test("an API 401 on a token that still looks valid: api refreshes once and succeeds", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  looker.emulator.expireAccessTokens();
  const api = await cli(["api", "/user"], { home: t.home });
  assert.equal(api.code, 0, api.stderr);
  assert.equal(JSON.parse(api.stdout).email, "ada@example.com");
  assert.equal(looker.emulator.stats.refreshes, 1);
  const after = await readTokenFile(t.tokenFile());
  assert.notEqual(after.tokens.accessToken, file.tokens.accessToken);
});

Deno.test("an API 401 that a refresh does not cure: exit 1 after exactly one refresh", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  looker.emulator.expireAccessTokens();
  // Every token the refresh gives is refused too.
  looker.emulator.tokenResponseFilter = (response, grantType) => {
    if (grantType === "refresh_token") looker.emulator.expireAccessTokens();
    return response;
  };
  const api = await cli(["api", "/user"], { home: t.home });
  assert.equal(api.code, 1, api.stderr);
  assert.match(api.stderr, /401 Requires authentication\./);
  assert.match(api.stderr, /sign in again/);
  assert.equal(looker.emulator.stats.refreshes, 1, "one refresh, no loop");
  assert.ok(await exists(t.tokenFile()), "the refreshed tokens are kept");
});

Deno.test("an API 401 and a refused refresh (the session ended elsewhere): exit 3, the token file removed", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  const { file } = await signIn(t, looker);
  const out = await fetch(`${looker.emulator.apiUrl}/api/4.0/logout`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${file.tokens.accessToken}` },
  });
  assert.equal(out.status, 204);
  const api = await cli(["api", "/user"], { home: t.home });
  assert.equal(api.code, 3, api.stderr);
  assert.equal(api.stdout, "");
  assert.match(api.stderr, /sign in again/);
  assert.equal(looker.emulator.stats.refreshes, 1);
  assert.equal(await exists(t.tokenFile()), false);
});

Deno.test("api keeps the query string: /user?fields=email,id", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const api = await cli(["api", "/user?fields=email,id"], { home: t.home });
  assert.equal(api.code, 0, api.stderr);
  assert.deepEqual(JSON.parse(api.stdout), {
    email: "ada@example.com",
    id: "1",
  });
});

Deno.test("api without a sign-in: exit 3", async () => {
  await using t = await tempHome();
  const api = await cli(["api", "/user"], { home: t.home });
  assert.equal(api.code, 3, api.stderr);
  assert.equal(api.stdout, "");
  assert.match(api.stderr, /looker-oauth login/);
});
