// The state folder as another local user could leave it: open to everyone,
// or with files that are not the user's. Like OpenSSH's StrictModes, what the
// user owns is made private before it is read, and what another user owns is
// refused (exit 1) instead of trusted.
import assert from "node:assert/strict";
import {
  expireTokenFile,
  hasStackTrace,
  modeOf,
  runCli,
  signIn,
  startLooker,
  tempHome,
} from "../_cli.ts";
import { serveRecording } from "../_recording_server.ts";

const IS_WINDOWS = Deno.build.os === "windows";
const IS_ROOT = !IS_WINDOWS && Deno.uid() === 0;
/** Another user: nobody. */
const OTHER = 65534;

Deno.test({
  name:
    "a state folder and tokens/ opened with chmod 0777: token, status and api make them 0700 again (with a warning) and work",
  ignore: IS_WINDOWS,
  fn: async () => {
    await using t = await tempHome();
    await using looker = await startLooker();
    await signIn(t, looker);
    for (const args of [["token"], ["status"], ["api", "/user"]]) {
      await Deno.chmod(t.home, 0o777);
      await Deno.chmod(`${t.home}/tokens`, 0o777);
      await Deno.chmod(`${t.home}/config.json`, 0o666);
      const run = await runCli(args, { home: t.home });
      assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(await modeOf(t.home), 0o700, args.join(" "));
      assert.equal(await modeOf(`${t.home}/tokens`), 0o700, args.join(" "));
      // `token` with a valid token reads no config.json.
      if (args[0] !== "token") {
        assert.equal(await modeOf(`${t.home}/config.json`), 0o600);
      }
      assert.ok(
        run.stderr.includes(t.home),
        `${args.join(" ")} said nothing: ${run.stderr}`,
      );
    }
  },
});

Deno.test({
  name:
    "a config.json another user swapped in, pointing at their server: api and token refuse it (exit 1, naming the file and the chmod), nothing is sent there",
  ignore: !IS_ROOT,
  fn: async () => {
    await using t = await tempHome();
    await using looker = await startLooker();
    const { file } = await signIn(t, looker);
    await using evil = serveRecording(() => Response.json({ id: 1 }));
    const configPath = `${t.home}/config.json`;
    const config = JSON.parse(await Deno.readTextFile(configPath));
    config.profiles.default.apiUrl = evil.base;
    // The neighbour's file, written while the folder was open to them.
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    await Deno.chown(configPath, OTHER, OTHER);

    const api = await runCli(["api", "/user"], { home: t.home });
    assert.equal(api.code, 1, api.stderr);
    assert.ok(api.stderr.includes(configPath), api.stderr);
    assert.match(api.stderr, /^hint: .*chmod/m);
    assert.ok(!hasStackTrace(api.stderr), api.stderr);

    await expireTokenFile(t.tokenFile());
    const token = await runCli(["token"], { home: t.home });
    assert.equal(token.code, 1, token.stderr);
    assert.ok(token.stderr.includes(configPath), token.stderr);
    assert.ok(!token.stderr.includes(file.tokens.refreshToken!));

    assert.deepEqual(evil.requests, [], "a request reached the other server");
    assert.equal(looker.emulator.stats.refreshes, 0);
  },
});

Deno.test({
  name:
    "a token file or tokens/ that belongs to another user: token and status refuse it (exit 1, naming it)",
  ignore: !IS_ROOT,
  fn: async () => {
    for (const which of ["tokens", "tokens/default.json"]) {
      await using t = await tempHome();
      await using looker = await startLooker();
      await signIn(t, looker);
      const path = `${t.home}/${which}`;
      await Deno.chown(path, OTHER, OTHER);
      for (const args of [["token"], ["status"]]) {
        const run = await runCli(args, { home: t.home });
        assert.equal(run.code, 1, `${which} ${args}: ${run.stderr}`);
        assert.equal(run.stdout, "");
        assert.ok(run.stderr.includes(path), run.stderr);
        assert.match(run.stderr, /^hint: .*chmod/m);
      }
    }
  },
});
