// WebStorageTokenStore outside a browser (the cross-tab Web Lock is tested
// in Chromium), and a TokenSession on it against the Looker emulator.
import assert from "node:assert/strict";
import {
  DEFAULT_TOKENS_KEY,
  WebStorageTokenStore,
} from "../../src/browser/mod.ts";
import type { TokenSet } from "../../src/core/mod.ts";
import { MapStorage } from "./_storage.ts";

const TOKENS: TokenSet = {
  accessToken: "access-1",
  tokenType: "bearer",
  expiresAt: 1_900_000_000_000,
  refreshToken: "refresh-1",
};

Deno.test("WebStorageTokenStore keeps tokens as JSON under one key", async () => {
  const storage = new MapStorage();
  const store = new WebStorageTokenStore({ storage });
  assert.equal(await store.load(), undefined);
  await store.save(TOKENS);
  assert.deepEqual(storage.keys(), [DEFAULT_TOKENS_KEY]);
  assert.deepEqual(await store.load(), TOKENS);
  // Another store on the same storage and key sees them (another tab).
  assert.deepEqual(
    await new WebStorageTokenStore({ storage }).load(),
    TOKENS,
  );
  await store.clear();
  assert.equal(await store.load(), undefined);
  assert.deepEqual(storage.keys(), []);
});

Deno.test("WebStorageTokenStore reads what is not a token set as signed out", async () => {
  const storage = new MapStorage();
  const store = new WebStorageTokenStore({ storage, key: "app:tokens" });
  for (
    const text of [
      "{not json",
      "null",
      '"a string"',
      '{"accessToken":"a","tokenType":"bearer"}',
      '{"accessToken":1,"tokenType":"bearer","expiresAt":0}',
    ]
  ) {
    storage.setItem("app:tokens", text);
    assert.equal(await store.load(), undefined, text);
  }
});

Deno.test("WebStorageTokenStore.withLock() runs one holder at a time", async () => {
  const store = new WebStorageTokenStore({ storage: new MapStorage() });
  const events: string[] = [];
  const hold = (name: string) =>
    store.withLock(async () => {
      events.push(`${name} in`);
      await Promise.resolve();
      await Promise.resolve();
      events.push(`${name} out`);
      return name;
    });
  const failing = store.withLock(() => Promise.reject(new Error("boom")));
  const results = await Promise.all([hold("a"), hold("b")]);
  await assert.rejects(failing, /boom/);
  assert.deepEqual(results, ["a", "b"]);
  assert.deepEqual(events, ["a in", "a out", "b in", "b out"]);
});
