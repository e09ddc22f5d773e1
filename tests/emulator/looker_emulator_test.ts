// The Looker emulator over raw HTTP: the UI host's /auth and pages, the API
// host's token endpoint and /api/4.0 endpoints, CORS, and the scripted
// browser getting through the pages. Real servers on 127.0.0.1, started
// and closed by each test.
import assert from "node:assert/strict";
import {
  type LookerEmulator,
  type LookerEmulatorOptions,
  type OAuthClientApp,
  startLookerEmulator,
} from "../../src/emulator/looker_emulator.ts";
import { browse } from "../../src/emulator/user_agent.ts";
import { base64urlEncode, s256 } from "../_pkce.ts";
import { startRedirectTarget } from "../_redirect_target.ts";

// ------------------------------------------------------------- helpers --

function randomVerifier(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

const CLIENT_ID = "test-app";
const REDIRECT_URI = "http://127.0.0.1:8080/callback";

function app(overrides: Partial<OAuthClientApp> = {}): OAuthClientApp {
  return {
    client_guid: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    display_name: "Test App",
    description: "Reads your user record",
    enabled: true,
    ...overrides,
  };
}

async function start(
  options: LookerEmulatorOptions = {},
): Promise<LookerEmulator> {
  return await startLookerEmulator({ apps: [app()], ...options });
}

interface AuthParams {
  clientId?: string;
  redirectUri?: string;
  state?: string;
  challenge?: string;
  method?: string;
  responseType?: string;
}

function authUrl(looker: LookerEmulator, params: AuthParams = {}): URL {
  const url = new URL("/auth", looker.lookerUrl);
  url.searchParams.set("response_type", params.responseType ?? "code");
  url.searchParams.set("client_id", params.clientId ?? CLIENT_ID);
  url.searchParams.set("redirect_uri", params.redirectUri ?? REDIRECT_URI);
  url.searchParams.set("scope", "cors_api");
  url.searchParams.set("state", params.state ?? "state-1");
  if (params.challenge !== "") {
    url.searchParams.set("code_challenge", params.challenge ?? "x".repeat(43));
  }
  if (params.method !== "") {
    url.searchParams.set("code_challenge_method", params.method ?? "S256");
  }
  return url;
}

/** GET without following redirects; the body is read. */
async function get(
  url: string | URL,
  headers: HeadersInit = {},
): Promise<{ response: Response; body: string }> {
  const response = await fetch(url, { redirect: "manual", headers });
  return { response, body: await response.text() };
}

/** Authorizes on an auto-approving emulator; returns the code and verifier. */
async function authorize(
  looker: LookerEmulator,
  params: AuthParams = {},
): Promise<{ code: string; verifier: string }> {
  const verifier = randomVerifier();
  const { response } = await get(
    authUrl(looker, { ...params, challenge: await s256(verifier) }),
  );
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get("location")!);
  const code = location.searchParams.get("code");
  assert.ok(code, `no code in ${location.href}`);
  return { code, verifier };
}

interface TokenAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function postToken(
  url: string,
  params: Record<string, string>,
  options: { json?: boolean; headers?: Record<string, string> } = {},
): Promise<TokenAnswer> {
  const response = await fetch(`${url}/api/token`, {
    method: "POST",
    headers: {
      "content-type": options.json
        ? "application/json;charset=UTF-8"
        : "application/x-www-form-urlencoded",
      ...options.headers,
    },
    body: options.json
      ? JSON.stringify(params)
      : new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : {},
  };
}

function exchange(
  looker: LookerEmulator,
  grant: { code: string; verifier: string },
  overrides: Record<string, string> = {},
  options: { json?: boolean; headers?: Record<string, string> } = {},
): Promise<TokenAnswer> {
  return postToken(looker.apiUrl, {
    grant_type: "authorization_code",
    code: grant.code,
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    code_verifier: grant.verifier,
    ...overrides,
  }, options);
}

function refresh(
  looker: LookerEmulator,
  refreshToken: string,
  overrides: Record<string, string> = {},
): Promise<TokenAnswer> {
  return postToken(looker.apiUrl, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    ...overrides,
  });
}

async function signIn(
  looker: LookerEmulator,
): Promise<{ accessToken: string; refreshToken: string }> {
  const answer = await exchange(looker, await authorize(looker));
  assert.equal(answer.status, 200);
  return {
    accessToken: answer.body.access_token as string,
    refreshToken: answer.body.refresh_token as string,
  };
}

async function api(
  looker: LookerEmulator,
  path: string,
  token: string | undefined,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown }> {
  const headers = new Headers(init.headers);
  if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
  const response = await fetch(`${looker.apiUrl}${path}`, {
    ...init,
    headers,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const REQUIRES_AUTH = {
  message: "Requires authentication.",
  documentation_url: "https://cloud.google.com/looker/docs/",
};
const NOT_FOUND = {
  message: "Not found",
  documentation_url: "https://cloud.google.com/looker/docs/",
};

/** Plays a person through the pages by hand: sign in, then the consent form. */
async function toConsentPage(
  looker: LookerEmulator,
  params: AuthParams = {},
): Promise<{ cookie: string; csrf: string; request: string; page: string }> {
  const first = await get(authUrl(looker, params));
  assert.equal(first.response.status, 302);
  const setCookie = first.response.headers.getSetCookie()[0]!;
  let cookie = setCookie.split(";")[0]!;
  const login = await get(
    new URL(first.response.headers.get("location")!, looker.lookerUrl),
    { cookie },
  );
  assert.equal(login.response.status, 200);
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(login.body)![1]!;
  const request = /name="request" value="([^"]+)"/.exec(login.body)![1]!;
  const signedIn = await fetch(`${looker.lookerUrl}/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      cookie,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      csrf_token: csrf,
      request,
      email: "ada@example.com",
      password: "secret",
    }),
  });
  await signedIn.body?.cancel();
  assert.equal(signedIn.status, 302);
  cookie = signedIn.headers.getSetCookie()[0]!.split(";")[0]!;
  const consent = await get(
    new URL(signedIn.headers.get("location")!, looker.lookerUrl),
    { cookie },
  );
  assert.equal(consent.response.status, 200);
  return {
    cookie,
    csrf: /name="csrf_token" value="([^"]+)"/.exec(consent.body)![1]!,
    request,
    page: consent.body,
  };
}

function postConsent(
  looker: LookerEmulator,
  at: { cookie: string; csrf: string; request: string },
  decision: string,
): Promise<Response> {
  return fetch(`${looker.lookerUrl}/auth/consent`, {
    method: "POST",
    redirect: "manual",
    headers: {
      cookie: at.cookie,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      csrf_token: at.csrf,
      request: at.request,
      decision,
    }),
  });
}

// --------------------------------------------------------------- hosts --

Deno.test("startLookerEmulator() serves the UI and the API on two loopback ports", async () => {
  const looker = await start();
  try {
    const ui = new URL(looker.lookerUrl);
    const apiHost = new URL(looker.apiUrl);
    assert.equal(ui.hostname, "127.0.0.1");
    assert.equal(apiHost.hostname, "127.0.0.1");
    assert.notEqual(ui.port, apiHost.port);
    assert.equal(looker.lookerUrl, ui.origin);
    assert.equal(looker.apiUrl, apiHost.origin);
    assert.ok(looker.apiCredentials.clientId.length >= 16);
    assert.ok(looker.apiCredentials.clientSecret.length >= 16);
  } finally {
    await looker.close();
    await looker.close(); // idempotent
  }
  await assert.rejects(fetch(`${looker.apiUrl}/api/versions`));
});

Deno.test("GET /api/versions names the API and the web server", async () => {
  await using looker = await start();
  const { status, body } = await api(looker, "/api/versions", undefined);
  assert.equal(status, 200);
  const versions = body as Record<string, unknown>;
  assert.equal(versions.api_server_url, looker.apiUrl);
  assert.equal(versions.web_server_url, looker.lookerUrl);
  assert.equal(versions.looker_release_version, "25.0.0");
  const current = versions.current_version as Record<string, unknown>;
  assert.equal(current.version, "4.0");
  assert.equal(current.full_version, "4.0.25.0");
  assert.equal(current.status, "current");
  assert.equal(typeof current.swagger_url, "string");
  assert.ok(Array.isArray(versions.supported_versions));
});

Deno.test("POST /api/token on the UI host is a Looker 404", async () => {
  await using looker = await start({ autoApprove: true });
  const grant = await authorize(looker);
  const answer = await exchange({ ...looker, apiUrl: looker.lookerUrl }, grant);
  assert.equal(answer.status, 404);
  assert.deepEqual(answer.body, NOT_FOUND);
  assert.equal(looker.stats.tokenRequests, 0);
  const { response, body } = await get(`${looker.lookerUrl}/nowhere`);
  assert.equal(response.status, 404);
  assert.match(response.headers.get("content-type")!, /^text\/html/);
  assert.match(body, /Page not found/);
});

// --------------------------------------------------------------- /auth --

Deno.test("/auth shows an error page, not a redirect, for a redirect_uri that differs", async () => {
  await using looker = await start({ autoApprove: true });
  for (
    const wrong of [
      "http://127.0.0.1:8080/callback/",
      "http://localhost:8080/callback",
      "http://127.0.0.1:8081/callback",
      "https://127.0.0.1:8080/callback",
      "http://127.0.0.1:8080/Callback",
      "http://127.0.0.1:8080/callback?x=1",
      "https://evil.example/callback",
    ]
  ) {
    const { response, body } = await get(
      authUrl(looker, { redirectUri: wrong }),
    );
    assert.equal(response.status, 400, wrong);
    assert.equal(response.headers.get("location"), null, wrong);
    assert.match(response.headers.get("content-type")!, /^text\/html/);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.match(body, /redirect_uri mismatch/);
    assert.ok(body.includes(REDIRECT_URI));
  }
  assert.equal(looker.stats.authorizations, 0);
});

Deno.test("/auth shows an error page for an unknown, missing or disabled client", async () => {
  await using looker = await start({
    autoApprove: true,
    apps: [app(), app({ client_guid: "off", enabled: false })],
  });
  const cases: [string, RegExp][] = [
    ["nobody", /Unknown app/],
    ["", /No client_id/],
    ["off", /App disabled/],
  ];
  for (const [clientId, title] of cases) {
    const { response, body } = await get(authUrl(looker, { clientId }));
    assert.equal(response.status, 400, clientId);
    assert.equal(response.headers.get("location"), null);
    assert.match(body, title);
  }
});

Deno.test("/auth redirects invalid_request with the state for a bad PKCE or response_type", async () => {
  await using looker = await start({ autoApprove: true });
  const cases: AuthParams[] = [
    { challenge: "" },
    { method: "" },
    { method: "plain" },
    { challenge: "too-short" },
    { responseType: "token" },
  ];
  for (const params of cases) {
    const { response } = await get(authUrl(looker, { ...params, state: "s" }));
    assert.equal(response.status, 302, JSON.stringify(params));
    const location = response.headers.get("location")!;
    assert.ok(location.startsWith(`${REDIRECT_URI}?error=invalid_request`));
    const url = new URL(location);
    assert.equal(url.searchParams.get("state"), "s");
    assert.equal(url.searchParams.get("code"), null);
  }
  assert.equal(looker.stats.authorizations, 0);
});

Deno.test("/auth answers with Looker's ?&code=...&state=... shape", async () => {
  await using looker = await start({ autoApprove: true });
  const { response } = await get(
    authUrl(looker, {
      state: "a b&c",
      challenge: await s256(randomVerifier()),
    }),
  );
  assert.equal(response.status, 302);
  const location = response.headers.get("location")!;
  assert.match(
    location,
    /^http:\/\/127\.0\.0\.1:8080\/callback\?&code=[A-Za-z0-9_-]+&state=a\+b%26c$/,
  );
  assert.equal(new URL(location).searchParams.get("state"), "a b&c");
  assert.equal(looker.stats.authorizations, 1);
});

// --------------------------------------------------------------- pages --

Deno.test("the sign-in and consent pages escape the app's name and description", async () => {
  await using looker = await start({
    apps: [app({
      display_name: `<script>alert("x")</script>`,
      description: `Tom & Jerry's <b>app</b>`,
    })],
  });
  const first = await get(authUrl(looker));
  const setCookie = first.response.headers.getSetCookie()[0]!;
  assert.match(setCookie, /HttpOnly/i);
  assert.match(setCookie, /SameSite=Lax/i);
  const at = await toConsentPage(looker);
  assert.ok(!at.page.includes("<script>"));
  assert.ok(!at.page.includes("<b>app</b>"));
  assert.ok(at.page.includes("&lt;script&gt;alert(&quot;x&quot;)"));
  assert.ok(at.page.includes("Tom &amp; Jerry&#39;s &lt;b&gt;app&lt;/b&gt;"));
  assert.match(
    at.page,
    /<button type="submit" name="decision" value="allow">Allow<\/button>/,
  );
  assert.match(at.page, /name="decision" value="deny">Deny<\/button>/);
  assert.match(at.page, /<form method="post"/);
  const consent = await get(
    `${looker.lookerUrl}/auth/consent?request=${at.request}`,
    { cookie: at.cookie },
  );
  assert.equal(consent.response.headers.get("cache-control"), "no-store");
});

Deno.test("the consent page's Allow answers with a code, and is remembered for the session", async () => {
  await using looker = await start();
  const at = await toConsentPage(looker, { state: "one" });
  const allowed = await postConsent(looker, at, "allow");
  await allowed.body?.cancel();
  assert.equal(allowed.status, 302);
  const location = allowed.headers.get("location")!;
  assert.ok(location.startsWith(`${REDIRECT_URI}?&code=`));
  assert.equal(new URL(location).searchParams.get("state"), "one");

  // Same browser, same app: straight back, no page.
  const again = await get(authUrl(looker, { state: "two" }), {
    cookie: at.cookie,
  });
  assert.equal(again.response.status, 302);
  const second = new URL(again.response.headers.get("location")!);
  assert.equal(second.origin + second.pathname, REDIRECT_URI);
  assert.ok(second.searchParams.get("code"));
  assert.equal(second.searchParams.get("state"), "two");
  assert.equal(looker.stats.authorizations, 2);
});

Deno.test("the consent page's Deny answers access_denied with the state", async () => {
  await using looker = await start();
  const at = await toConsentPage(looker, { state: "st" });
  const denied = await postConsent(looker, at, "deny");
  await denied.body?.cancel();
  assert.equal(denied.status, 302);
  const location = denied.headers.get("location")!;
  assert.equal(location, `${REDIRECT_URI}?error=access_denied&state=st`);
  assert.equal(looker.stats.authorizations, 0);
});

Deno.test("a consent form without the session's CSRF token is refused", async () => {
  await using looker = await start();
  const at = await toConsentPage(looker);
  const forged = await postConsent(looker, { ...at, csrf: "forged" }, "allow");
  await forged.body?.cancel();
  assert.equal(forged.status, 403);
  assert.equal(forged.headers.get("location"), null);
  const noCookie = await postConsent(looker, { ...at, cookie: "" }, "allow");
  await noCookie.body?.cancel();
  assert.equal(noCookie.status, 400);
  assert.equal(looker.stats.authorizations, 0);
});

Deno.test("browse() signs in and allows through the emulator's pages", async () => {
  await using receiver = startRedirectTarget();
  await using looker = await start({
    apps: [app({ redirect_uri: receiver.redirectUri })],
  });
  const verifier = randomVerifier();
  const page = await browse(
    authUrl(looker, {
      redirectUri: receiver.redirectUri,
      challenge: await s256(verifier),
    }),
    { decision: "approve" },
  );
  assert.equal(page.status, 200);
  const paths = page.visited.map((u) => u.pathname);
  assert.deepEqual(paths, [
    "/auth",
    "/login",
    "/login",
    "/auth/consent",
    "/auth/consent",
    "/callback",
  ]);
  assert.equal(receiver.callbacks.length, 1);
  const callback = receiver.callbacks[0]!;
  assert.equal(callback.searchParams.get("state"), "state-1");
  const answer = await exchange(
    looker,
    { code: callback.searchParams.get("code")!, verifier },
    { redirect_uri: receiver.redirectUri },
  );
  assert.equal(answer.status, 200);
});

Deno.test("browse() with decision deny comes back with access_denied", async () => {
  await using receiver = startRedirectTarget();
  await using looker = await start({
    apps: [app({ redirect_uri: receiver.redirectUri })],
  });
  const page = await browse(
    authUrl(looker, { redirectUri: receiver.redirectUri }),
    { decision: "deny" },
  );
  assert.equal(page.status, 200);
  assert.equal(receiver.callbacks.length, 1);
  const callback = receiver.callbacks[0]!;
  assert.equal(callback.searchParams.get("error"), "access_denied");
  assert.equal(callback.searchParams.get("state"), "state-1");
  assert.equal(callback.searchParams.get("code"), null);
});

Deno.test("browse() is sent straight back when autoApprove is set", async () => {
  await using receiver = startRedirectTarget();
  await using looker = await start({
    autoApprove: true,
    apps: [app({ redirect_uri: receiver.redirectUri })],
  });
  const page = await browse(
    authUrl(looker, { redirectUri: receiver.redirectUri }),
  );
  assert.deepEqual(page.visited.map((u) => u.pathname), ["/auth", "/callback"]);
  assert.ok(receiver.callbacks[0]!.searchParams.get("code"));
});

// --------------------------------------------------------- /api/token --

Deno.test("/api/token exchanges a code sent as a form", async () => {
  await using looker = await start({ autoApprove: true });
  const answer = await exchange(looker, await authorize(looker));
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get("content-type")!, /^application\/json/);
  assert.equal(answer.headers.get("cache-control"), "no-store");
  assert.equal(answer.body.token_type, "Bearer");
  assert.equal(answer.body.expires_in, 3600);
  assert.equal(typeof answer.body.access_token, "string");
  assert.equal(typeof answer.body.refresh_token, "string");
  assert.deepEqual(
    Object.keys(answer.body).sort(),
    ["access_token", "expires_in", "refresh_token", "token_type"],
  );
  assert.equal(looker.stats.codeExchanges, 1);
  assert.equal(looker.stats.tokenRequests, 1);
});

Deno.test("/api/token exchanges a code sent as JSON, as Looker's browser sample does", async () => {
  await using looker = await start({ autoApprove: true, accessTokenTtl: 600 });
  const answer = await exchange(looker, await authorize(looker), {}, {
    json: true,
    headers: { "x-looker-appid": "Web App Auth & CORS API Demo" },
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.body.expires_in, 600);
  const me = await api(
    looker,
    "/api/4.0/user",
    answer.body.access_token as string,
  );
  assert.equal(me.status, 200);
  assert.deepEqual(me.body, {
    id: "1",
    first_name: "Ada",
    last_name: "Lovelace",
    display_name: "Ada Lovelace",
    email: "ada@example.com",
  });
});

Deno.test("/api/token refuses a reused code and revokes the tokens it gave", async () => {
  await using looker = await start({ autoApprove: true });
  const grant = await authorize(looker);
  const first = await exchange(looker, grant);
  assert.equal(first.status, 200);
  const second = await exchange(looker, grant);
  assert.equal(second.status, 400);
  assert.equal(second.body.error, "invalid_grant");
  const me = await api(
    looker,
    "/api/4.0/user",
    first.body.access_token as string,
  );
  assert.equal(me.status, 401);
  const renewed = await refresh(looker, first.body.refresh_token as string);
  assert.equal(renewed.body.error, "invalid_grant");
});

Deno.test("/api/token refuses a PKCE verifier that does not match", async () => {
  await using looker = await start({ autoApprove: true });
  const grant = await authorize(looker);
  const wrong = await exchange(looker, {
    ...grant,
    verifier: randomVerifier(),
  });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error, "invalid_grant");
  // The failed attempt used the code up.
  const right = await exchange(looker, grant);
  assert.equal(right.body.error, "invalid_grant");
});

Deno.test("/api/token refuses a redirect_uri other than the authorization request's", async () => {
  await using looker = await start({ autoApprove: true });
  const answer = await exchange(looker, await authorize(looker), {
    redirect_uri: "http://127.0.0.1:8080/callback/",
  });
  assert.equal(answer.status, 400);
  assert.deepEqual(answer.body, {
    error: "invalid_grant",
    error_description: "redirect_uri does not match",
  });
});

Deno.test("/api/token refuses an expired code", async () => {
  let clock = 1_700_000_000_000;
  await using looker = await start({
    autoApprove: true,
    codeTtl: 60,
    now: () => clock,
  });
  const grant = await authorize(looker);
  clock += 60_000;
  const answer = await exchange(looker, grant);
  assert.equal(answer.body.error, "invalid_grant");
});

Deno.test("/api/token refuses a code issued to another client", async () => {
  await using looker = await start({
    autoApprove: true,
    apps: [app(), app({ client_guid: "other" })],
  });
  const answer = await exchange(looker, await authorize(looker), {
    client_id: "other",
  });
  assert.equal(answer.body.error, "invalid_grant");
});

Deno.test("/api/token rejects Basic authentication with Failed Basic Authentication", async () => {
  await using looker = await start({ autoApprove: true });
  const answer = await exchange(looker, await authorize(looker), {}, {
    headers: { authorization: `Basic ${btoa(`${CLIENT_ID}:`)}` },
  });
  assert.equal(answer.status, 401);
  assert.deepEqual(answer.body, {
    error: "invalid_client",
    error_description: "Failed Basic Authentication",
  });
});

Deno.test("/api/token answers invalid_client, invalid_request and unsupported_grant_type", async () => {
  await using looker = await start({ autoApprove: true });
  const unknown = await exchange(looker, await authorize(looker), {
    client_id: "nobody",
  });
  assert.equal(unknown.status, 401);
  assert.equal(unknown.body.error, "invalid_client");
  const missing = await postToken(looker.apiUrl, {
    grant_type: "authorization_code",
    client_id: CLIENT_ID,
  });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error, "invalid_request");
  const password = await postToken(looker.apiUrl, {
    grant_type: "password",
    username: "ada",
    password: "x",
  });
  assert.equal(password.status, 400);
  assert.equal(password.body.error, "unsupported_grant_type");
  assert.equal(typeof password.body.error_description, "string");
  const xml = await fetch(`${looker.apiUrl}/api/token`, {
    method: "POST",
    headers: { "content-type": "text/xml" },
    body: "<grant/>",
  });
  assert.equal((await xml.json()).error, "invalid_request");
  assert.equal(looker.stats.tokenRequests, 4);
});

// ------------------------------------------------------------ refresh --

Deno.test("refresh rotates the refresh token by default, and a reuse revokes the grant", async () => {
  await using looker = await start({ autoApprove: true });
  const first = await signIn(looker);
  const renewed = await refresh(looker, first.refreshToken);
  assert.equal(renewed.status, 200);
  assert.equal(renewed.headers.get("cache-control"), "no-store");
  const next = renewed.body.refresh_token as string;
  assert.equal(typeof next, "string");
  assert.notEqual(next, first.refreshToken);
  assert.notEqual(renewed.body.access_token, first.accessToken);

  const reuse = await refresh(looker, first.refreshToken);
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error, "invalid_grant");
  assert.equal(looker.stats.refreshReuses, 1);
  // The whole grant is gone: the newest refresh and access tokens too.
  assert.equal((await refresh(looker, next)).body.error, "invalid_grant");
  const me = await api(
    looker,
    "/api/4.0/user",
    renewed.body.access_token as string,
  );
  assert.equal(me.status, 401);
  assert.equal(looker.stats.refreshes, 3);
});

Deno.test("revokeGrantOnRefreshReuse: false refuses the reuse but keeps the grant", async () => {
  await using looker = await start({
    autoApprove: true,
    revokeGrantOnRefreshReuse: false,
  });
  const first = await signIn(looker);
  const renewed = await refresh(looker, first.refreshToken);
  const reuse = await refresh(looker, first.refreshToken);
  assert.equal(reuse.body.error, "invalid_grant");
  assert.equal(looker.stats.refreshReuses, 1);
  const again = await refresh(looker, renewed.body.refresh_token as string);
  assert.equal(again.status, 200);
});

Deno.test("refresh without rotation omits refresh_token and the old one keeps working", async () => {
  await using looker = await start({ autoApprove: true });
  looker.rotateRefreshTokens = false;
  const first = await signIn(looker);
  for (let i = 0; i < 2; i++) {
    const renewed = await refresh(looker, first.refreshToken);
    assert.equal(renewed.status, 200);
    assert.equal("refresh_token" in renewed.body, false);
    assert.equal(renewed.body.token_type, "Bearer");
  }
  assert.equal(looker.stats.refreshReuses, 0);
  looker.rotateRefreshTokens = true;
  const rotated = await refresh(looker, first.refreshToken);
  assert.equal(typeof rotated.body.refresh_token, "string");
});

Deno.test("refresh requires the registered redirect_uri and the right client", async () => {
  await using looker = await start({
    autoApprove: true,
    apps: [app(), app({ client_guid: "other" })],
  });
  const first = await signIn(looker);
  const missing = await postToken(looker.apiUrl, {
    grant_type: "refresh_token",
    refresh_token: first.refreshToken,
    client_id: CLIENT_ID,
  });
  assert.equal(missing.body.error, "invalid_request");
  const wrong = await refresh(looker, first.refreshToken, {
    redirect_uri: "http://localhost:8080/callback",
  });
  assert.equal(wrong.body.error, "invalid_grant");
  assert.equal(wrong.body.error_description, "redirect_uri does not match");
  const other = await refresh(looker, first.refreshToken, {
    client_id: "other",
  });
  assert.equal(other.body.error, "invalid_grant");
  const ok = await refresh(looker, first.refreshToken);
  assert.equal(ok.status, 200);
  assert.equal(looker.stats.refreshes, 4);
});

Deno.test("tokenResponseFilter runs after the rotation, so a lost answer leaves the old token used", async () => {
  await using looker = await start({ autoApprove: true });
  const first = await signIn(looker);
  const seen: string[] = [];
  looker.tokenResponseFilter = async (response, grantType) => {
    seen.push(grantType);
    await response.body?.cancel();
    return new Response("<html>Bad gateway</html>", {
      status: 502,
      headers: { "content-type": "text/html" },
    });
  };
  const lost = await fetch(`${looker.apiUrl}/api/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: first.refreshToken,
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
    }),
  });
  assert.equal(lost.status, 502);
  assert.match(await lost.text(), /Bad gateway/);
  assert.deepEqual(seen, ["refresh_token"]);
  looker.tokenResponseFilter = undefined;
  const retry = await refresh(looker, first.refreshToken);
  assert.equal(retry.body.error, "invalid_grant");
  assert.equal(looker.stats.refreshReuses, 1);
});

// ----------------------------------------------------------- /api/4.0 --

Deno.test("/api/4.0 answers 401 Requires authentication. for missing, unknown and expired tokens", async () => {
  let clock = 1_700_000_000_000;
  await using looker = await start({
    autoApprove: true,
    accessTokenTtl: 3600,
    now: () => clock,
  });
  const { accessToken } = await signIn(looker);
  assert.equal((await api(looker, "/api/4.0/user", accessToken)).status, 200);
  for (const token of [undefined, "nope"]) {
    const answer = await api(looker, "/api/4.0/user", token);
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.body, REQUIRES_AUTH);
  }
  const other = await api(looker, "/api/4.0/dashboards", undefined);
  assert.deepEqual(other.body, REQUIRES_AUTH);
  clock += 3600_000;
  assert.deepEqual(
    (await api(looker, "/api/4.0/user", accessToken)).body,
    REQUIRES_AUTH,
  );
});

Deno.test("expireAccessTokens() makes every token issued so far answer 401", async () => {
  await using looker = await start({ autoApprove: true });
  const first = await signIn(looker);
  looker.expireAccessTokens();
  assert.equal(
    (await api(looker, "/api/4.0/user", first.accessToken)).status,
    401,
  );
  const renewed = await refresh(looker, first.refreshToken);
  assert.equal(
    (await api(looker, "/api/4.0/user", renewed.body.access_token as string))
      .status,
    200,
  );
  assert.ok(looker.stats.apiCalls >= 2);
});

Deno.test("DELETE /api/4.0/logout kills the access token and the refresh token", async () => {
  await using looker = await start({ autoApprove: true });
  const { accessToken, refreshToken } = await signIn(looker);
  const out = await api(looker, "/api/4.0/logout", accessToken, {
    method: "DELETE",
  });
  assert.equal(out.status, 204);
  assert.equal(looker.stats.logouts, 1);
  assert.equal((await api(looker, "/api/4.0/user", accessToken)).status, 401);
  const renewed = await refresh(looker, refreshToken);
  assert.equal(renewed.status, 400);
  assert.equal(renewed.body.error, "invalid_grant");
  const twice = await api(looker, "/api/4.0/logout", accessToken, {
    method: "DELETE",
  });
  assert.equal(twice.status, 401);
  assert.equal(looker.stats.logouts, 1);
});

Deno.test("an API3 login registers, reads, updates and deletes an OAuth client app", async () => {
  await using looker = await start({
    autoApprove: true,
    apps: [],
    apiCredentials: { clientId: "key", clientSecret: "secret" },
  });
  const login = (secret: string) =>
    api(looker, "/api/4.0/login", undefined, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: "key", client_secret: secret }),
    });
  const refused = await login("wrong");
  assert.equal(refused.status, 404);
  assert.deepEqual(refused.body, NOT_FOUND);
  const accepted = await login("secret");
  assert.equal(accepted.status, 200);
  const session = accepted.body as Record<string, unknown>;
  assert.equal(session.token_type, "Bearer");
  assert.equal(session.expires_in, 3600);
  const token = session.access_token as string;

  const path = `/api/4.0/oauth_client_apps/${CLIENT_ID}`;
  const send = (method: string, body?: unknown) =>
    api(looker, path, token, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  assert.deepEqual((await send("GET")).body, NOT_FOUND);
  assert.equal((await api(looker, path, undefined)).status, 401);

  const invalid = await send("POST", { display_name: "No redirect" });
  assert.equal(invalid.status, 422);
  const validation = invalid.body as Record<string, unknown>;
  assert.equal(validation.message, "Validation Failed");
  assert.equal(
    (validation.errors as { field: string }[])[0]!.field,
    "redirect_uri",
  );

  const registration = {
    redirect_uri: REDIRECT_URI,
    display_name: "OAuth2 Python",
    description: "OAuth2 Python",
    enabled: true,
    group_id: "",
  };
  const created = await send("POST", registration);
  assert.equal(created.status, 200);
  assert.deepEqual(created.body, { client_guid: CLIENT_ID, ...registration });
  const duplicate = await send("POST", registration);
  assert.equal(duplicate.status, 409);
  assert.match(
    (duplicate.body as { message: string }).message,
    /already exists/,
  );
  assert.deepEqual((await send("GET")).body, created.body);

  const patched = await send("PATCH", { display_name: "Renamed" });
  assert.equal(patched.status, 200);
  assert.equal((patched.body as OAuthClientApp).display_name, "Renamed");
  assert.equal((patched.body as OAuthClientApp).redirect_uri, REDIRECT_URI);

  // The registered app can sign in.
  assert.equal((await exchange(looker, await authorize(looker))).status, 200);

  const list = await api(looker, "/api/4.0/oauth_client_apps", token);
  assert.equal((list.body as unknown[]).length, 1);
  assert.equal((await send("DELETE")).status, 204);
  assert.equal((await send("GET")).status, 404);
  const gone = await get(authUrl(looker));
  assert.equal(gone.response.status, 400);
});

Deno.test("a user's OAuth token may also manage OAuth client apps", async () => {
  await using looker = await start({ autoApprove: true });
  const { accessToken } = await signIn(looker);
  const answer = await api(
    looker,
    `/api/4.0/oauth_client_apps/${CLIENT_ID}`,
    accessToken,
  );
  assert.equal(answer.status, 200);
  assert.equal((answer.body as OAuthClientApp).client_guid, CLIENT_ID);
});

Deno.test("unknown API paths are Looker 404s", async () => {
  await using looker = await start({ autoApprove: true });
  const { accessToken } = await signIn(looker);
  for (const path of ["/api/4.0/nothing", "/api/9.9/user", "/"]) {
    const answer = await api(looker, path, accessToken);
    assert.equal(answer.status, 404, path);
    assert.deepEqual(answer.body, NOT_FOUND);
  }
  const getToken = await api(looker, "/api/token", undefined);
  assert.equal(getToken.status, 404);
});

// ---------------------------------------------------------------- CORS --

Deno.test("CORS headers go only to origins on the allowlist", async () => {
  const allowed = "https://app.example.com";
  await using looker = await start({ allowedOrigins: [allowed] });
  const preflight = await fetch(`${looker.apiUrl}/api/token`, {
    method: "OPTIONS",
    headers: {
      origin: allowed,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,x-looker-appid",
    },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.status, 204);
  assert.equal(
    preflight.headers.get("access-control-allow-origin"),
    allowed,
  );
  assert.match(preflight.headers.get("vary")!, /Origin/);
  const allowHeaders = preflight.headers.get("access-control-allow-headers")!;
  for (const header of ["authorization", "content-type", "x-looker-appid"]) {
    assert.ok(allowHeaders.includes(header), header);
  }
  assert.match(preflight.headers.get("access-control-allow-methods")!, /POST/);

  const refusedPreflight = await fetch(`${looker.apiUrl}/api/token`, {
    method: "OPTIONS",
    headers: {
      origin: "https://evil.example",
      "access-control-request-method": "POST",
    },
  });
  await refusedPreflight.body?.cancel();
  assert.equal(
    refusedPreflight.headers.get("access-control-allow-origin"),
    null,
  );
  assert.equal(looker.stats.refusedPreflights, 1);

  const fromAllowed = await fetch(`${looker.apiUrl}/api/versions`, {
    headers: { origin: allowed },
  });
  await fromAllowed.body?.cancel();
  assert.equal(fromAllowed.headers.get("access-control-allow-origin"), allowed);
  assert.match(fromAllowed.headers.get("vary")!, /Origin/);

  const fromOther = await fetch(`${looker.apiUrl}/api/versions`, {
    headers: { origin: "https://evil.example" },
  });
  await fromOther.body?.cancel();
  assert.equal(fromOther.headers.get("access-control-allow-origin"), null);

  const token = await fetch(`${looker.apiUrl}/api/token`, {
    method: "POST",
    headers: { origin: allowed },
    body: new URLSearchParams({ grant_type: "refresh_token" }),
  });
  await token.body?.cancel();
  assert.equal(token.headers.get("access-control-allow-origin"), allowed);
});

Deno.test("registerApp() refuses an app without a usable redirect_uri", async () => {
  await using looker = await start();
  assert.throws(
    () => looker.registerApp(app({ redirect_uri: "/callback" })),
    TypeError,
  );
  assert.throws(
    () => looker.registerApp(app({ redirect_uri: `${REDIRECT_URI}#x` })),
    TypeError,
  );
  assert.throws(() => looker.registerApp(app({ client_guid: "" })), TypeError);
});
