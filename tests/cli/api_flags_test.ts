// `api` as gh users expect it: -q query parameters, -H headers, -i status
// and headers; and a polite client: x-looker-appid, Retry-After honoured
// once (never for POST), LOOKERSDK_TIMEOUT bounding the call.
import assert from "node:assert/strict";
import { cli, DENO_JSON, signIn, startLooker, tempHome } from "../_cli.ts";

Deno.test("api -q adds query parameters, encoded, repeatable", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const out = await cli(
    ["api", "/user", "-q", "fields=id,email", "--query", "x=a b&c"],
    { home: t.home },
  );
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), {
    id: "1",
    email: "ada@example.com",
  });
  const bad = await cli(["api", "/user", "-q", "novalue"], { home: t.home });
  assert.equal(bad.code, 2);
});

Deno.test("api -H sends extra headers, and every request carries x-looker-appid", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const seen: Headers[] = [];
  looker.emulator.apiResponseFilter = (response, request) => {
    seen.push(request.headers);
    return response;
  };
  const out = await cli(
    [
      "api",
      "/user",
      "-H",
      "X-Trace: abc 123",
      "-H",
      "Accept: application/json",
    ],
    { home: t.home },
  );
  assert.equal(out.code, 0, out.stderr);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.get("x-trace"), "abc 123");
  assert.equal(
    seen[0]!.get("x-looker-appid"),
    `looker-oauth/${DENO_JSON.version}`,
  );

  for (const header of ["Authorization: Bearer x", "no colon", "Bad Name: v"]) {
    const refused = await cli(["api", "/user", "-H", header], {
      home: t.home,
    });
    assert.equal(refused.code, 2, header);
  }
  assert.equal(seen.length, 1);
});

Deno.test("api -i prints the status line and the response headers before the body", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const out = await cli(["api", "-i", "/user"], { home: t.home });
  assert.equal(out.code, 0, out.stderr);
  const [head, body] = out.stdout.split("\n\n");
  const lines = head!.split("\n");
  assert.match(lines[0]!, /^HTTP 200\b/);
  assert.ok(
    lines.some((l: string) => /^content-type: application\/json\b/.test(l)),
    head,
  );
  assert.equal(JSON.parse(body!).id, "1");
});

Deno.test("api waits as Retry-After asks and retries a GET once; a POST is never retried", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  const calls: string[] = [];
  looker.emulator.apiResponseFilter = async (response, request) => {
    calls.push(request.method);
    if (calls.length > 1) return response;
    await response.body?.cancel();
    return Response.json({ message: "Busy" }, {
      status: 503,
      headers: { "retry-after": "1" },
    });
  };
  const get = await cli(["api", "/user"], { home: t.home });
  assert.equal(get.code, 0, get.stderr);
  assert.deepEqual(calls, ["GET", "GET"]);
  assert.equal(JSON.parse(get.stdout).id, "1");
  assert.match(get.stderr, /Retry-After/);

  calls.length = 0;
  const post = await cli(
    ["api", "-X", "POST", "/api/4.0/user", "--data", "{}"],
    { home: t.home },
  );
  assert.equal(post.code, 1);
  assert.deepEqual(calls, ["POST"]);
});

Deno.test("LOOKERSDK_TIMEOUT bounds an API call", async () => {
  await using t = await tempHome();
  await using looker = await startLooker();
  await signIn(t, looker);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  looker.emulator.apiResponseFilter = async (response) => {
    await held;
    return response;
  };
  try {
    const out = await cli(["api", "/user"], {
      home: t.home,
      env: { LOOKERSDK_TIMEOUT: "1" },
    });
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /LOOKERSDK_TIMEOUT/);
    const bad = await cli(["api", "/user"], {
      home: t.home,
      env: { LOOKERSDK_TIMEOUT: "soon" },
    });
    assert.equal(bad.code, 2);
  } finally {
    release();
  }
});
