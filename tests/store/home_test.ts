// stateHome(): where looker-oauth keeps config.json and tokens/.
import assert from "node:assert/strict";
import { stateHome } from "../../src/store/home.ts";
import { TokenStoreError } from "../../src/store/errors.ts";

/** An environment holding exactly `vars`. */
function env(
  vars: Record<string, string>,
): (name: string) => string | undefined {
  return (name) => vars[name];
}

const ALL = {
  LOOKER_OAUTH_HOME: "/srv/looker-oauth",
  XDG_CONFIG_HOME: "/home/ada/.xdg",
  HOME: "/home/ada",
  APPDATA: "C:\\Users\\ada\\AppData\\Roaming",
  USERPROFILE: "C:\\Users\\ada",
};

Deno.test("stateHome() prefers LOOKER_OAUTH_HOME over everything", () => {
  for (const os of ["linux", "darwin", "windows"]) {
    assert.equal(stateHome(env(ALL), os), "/srv/looker-oauth", os);
  }
});

Deno.test("stateHome() uses XDG_CONFIG_HOME/looker-oauth next", () => {
  const { LOOKER_OAUTH_HOME: _, ...rest } = ALL;
  assert.equal(stateHome(env(rest), "linux"), "/home/ada/.xdg/looker-oauth");
  assert.equal(stateHome(env(rest), "darwin"), "/home/ada/.xdg/looker-oauth");
});

Deno.test("stateHome() falls back to ~/.config/looker-oauth", () => {
  assert.equal(
    stateHome(env({ HOME: "/home/ada" }), "linux"),
    "/home/ada/.config/looker-oauth",
  );
  assert.equal(
    stateHome(env({ HOME: "/Users/ada" }), "darwin"),
    "/Users/ada/.config/looker-oauth",
  );
});

Deno.test("stateHome() uses %APPDATA%\\looker-oauth on Windows", () => {
  const { LOOKER_OAUTH_HOME: _, ...rest } = ALL;
  assert.equal(
    stateHome(env(rest), "windows"),
    "C:\\Users\\ada\\AppData\\Roaming\\looker-oauth",
  );
  assert.equal(
    stateHome(env({ APPDATA: "D:\\Roaming" }), "windows"),
    "D:\\Roaming\\looker-oauth",
  );
});

Deno.test("stateHome() ignores APPDATA off Windows", () => {
  assert.equal(
    stateHome(env({ APPDATA: "C:\\Roaming", HOME: "/home/ada" }), "linux"),
    "/home/ada/.config/looker-oauth",
  );
});

Deno.test("stateHome() treats empty variables as unset", () => {
  assert.equal(
    stateHome(
      env({ LOOKER_OAUTH_HOME: "", XDG_CONFIG_HOME: "", HOME: "/home/ada" }),
      "linux",
    ),
    "/home/ada/.config/looker-oauth",
  );
});

Deno.test("stateHome() throws when no home folder can be found", () => {
  assert.throws(() => stateHome(env({}), "linux"), Error);
});

Deno.test("stateHome() reads the real environment by default", () => {
  assert.equal(
    stateHome(),
    stateHome((name) => Deno.env.get(name), Deno.build.os),
  );
});

Deno.test("stateHome() without any home folder throws TokenStoreError no_home with a hint", () => {
  for (const os of ["linux", "darwin", "windows"]) {
    assert.throws(() => stateHome(env({}), os), (err) => {
      assert.ok(
        err instanceof TokenStoreError,
        `not a TokenStoreError: ${err}`,
      );
      assert.equal(err.code, "no_home");
      assert.ok(err.hint);
      return true;
    });
  }
});
