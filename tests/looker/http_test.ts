// politeFetch against a real loopback server: x-looker-appid, Retry-After
// honoured once for idempotent methods and never for POST, the timeout.
import assert from "node:assert/strict";
import { politeFetch, retryAfter } from "../../src/looker/http.ts";
import { serveRecording } from "../_recording_server.ts";
import { oauthErrorWith } from "../_errors.ts";

/** A server answering `busy` first (503 + Retry-After: 2), then 200s. */
function busyOnce(status = 503, header: string | null = "2") {
  let calls = 0;
  return serveRecording(() => {
    calls++;
    if (calls === 1) {
      return new Response("busy", {
        status,
        headers: header === null ? {} : { "retry-after": header },
      });
    }
    return Response.json({ ok: true });
  });
}

function recordingSleep() {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
  };
}

Deno.test("politeFetch() sends x-looker-appid on every request, keeping the caller's headers", async () => {
  await using server = serveRecording(() => new Response("ok"));
  const send = politeFetch({ appId: "looker-oauth/9.9.9" });
  await (await send(`${server.base}/a`, { headers: { accept: "text/csv" } }))
    .text();
  await (await send(new Request(`${server.base}/b`))).text();
  assert.deepEqual(
    server.requests.map((r) => r.headers.get("x-looker-appid")),
    ["looker-oauth/9.9.9", "looker-oauth/9.9.9"],
  );
  assert.equal(server.requests[0]!.headers.get("accept"), "text/csv");
});

Deno.test("politeFetch() waits as Retry-After asks and retries a GET once after a 503 or 429", async () => {
  for (const status of [503, 429]) {
    await using server = busyOnce(status);
    const { waits, sleep } = recordingSleep();
    const response = await politeFetch({ sleep })(`${server.base}/x`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.deepEqual(waits, [2000]);
    assert.equal(server.requests.length, 2);
  }
});

Deno.test("politeFetch() retries only once: a second 503 is returned", async () => {
  await using server = serveRecording(() =>
    new Response("busy", { status: 503, headers: { "retry-after": "1" } })
  );
  const { waits, sleep } = recordingSleep();
  const response = await politeFetch({ sleep })(`${server.base}/x`, {
    method: "DELETE",
  });
  assert.equal(response.status, 503);
  await response.body?.cancel();
  assert.deepEqual(waits, [1000]);
  assert.equal(server.requests.length, 2);
});

Deno.test("politeFetch() never retries a POST or PATCH, nor without Retry-After, nor past the longest wait", async () => {
  for (const method of ["POST", "PATCH"]) {
    await using server = busyOnce();
    const { waits, sleep } = recordingSleep();
    const response = await politeFetch({ sleep })(`${server.base}/x`, {
      method,
      body: "{}",
    });
    assert.equal(response.status, 503, method);
    await response.body?.cancel();
    assert.deepEqual(waits, []);
    assert.equal(server.requests.length, 1);
  }
  {
    await using server = busyOnce(503, null);
    const { waits, sleep } = recordingSleep();
    const response = await politeFetch({ sleep })(`${server.base}/x`);
    assert.equal(response.status, 503);
    await response.body?.cancel();
    assert.deepEqual(waits, []);
  }
  {
    await using server = busyOnce(429, "3600");
    const { waits, sleep } = recordingSleep();
    const response = await politeFetch({ sleep })(`${server.base}/x`);
    assert.equal(response.status, 429);
    await response.body?.cancel();
    assert.deepEqual(waits, []);
    assert.equal(server.requests.length, 1);
  }
});

Deno.test("politeFetch() bounds a request by its timeout: timeout, with a hint", async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  await using server = serveRecording(async () => {
    await held;
    return new Response("late");
  });
  try {
    await assert.rejects(
      politeFetch({ timeout: 100 })(`${server.base}/slow`),
      oauthErrorWith("timeout"),
    );
  } finally {
    release();
  }
});

Deno.test("retryAfter() reads delta-seconds and HTTP dates", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfter("7", now), 7000);
  assert.equal(retryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5000);
  assert.equal(retryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
  assert.equal(retryAfter("soon", now), undefined);
  assert.equal(retryAfter(null, now), undefined);
});
