// looker.ini read as the Looker SDKs read it: the file from --ini, else
// LOOKER_OAUTH_INI, else LOOKERSDK_INI, else ./looker.ini; the section from
// --section, else [Looker], else the first one.
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/_args.ts";
import { readLookerIni, readLookerIniSection } from "../../src/cli/_config.ts";
import { cli, signIn, startLooker, tempHome } from "../_cli.ts";
import { scriptedPerson } from "../_io.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readLookerIniSection() takes [Looker] wherever it is, else the first section", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/looker.ini`,
      "[Staging]\nbase_url=https://staging\n[looker]\nbase_url=https://prod\n",
    );
    const looker = await readLookerIniSection(env({}), { cwd: dir });
    assert.equal(looker.name, "looker");
    assert.equal(looker.section.base_url, "https://prod");

    await Deno.writeTextFile(
      `${dir}/looker.ini`,
      "; a comment\n[Production]\nbase_url=https://prod\n[Staging]\nbase_url=https://staging\n",
    );
    const first = await readLookerIniSection(env({}), { cwd: dir });
    assert.equal(first.name, "Production");
    assert.equal(first.section.base_url, "https://prod");
  });
});

Deno.test("readLookerIniSection() takes --section by name, case-insensitively, and refuses a missing one", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/looker.ini`,
      "[Looker]\nbase_url=https://prod\n[Staging]\nbase_url=https://staging\n",
    );
    const staging = await readLookerIniSection(env({}), {
      cwd: dir,
      section: "staging",
    });
    assert.equal(staging.section.base_url, "https://staging");
    await assert.rejects(
      readLookerIniSection(env({}), { cwd: dir, section: "Dev" }),
      (err) =>
        err instanceof UsageError &&
        /\[Looker\], \[Staging\]/.test(err.message),
    );
  });
  await withDir(async (dir) => {
    // No looker.ini at all, yet a section asked for: say so.
    await assert.rejects(
      readLookerIniSection(env({}), { cwd: dir, section: "Looker" }),
      UsageError,
    );
  });
});

Deno.test("readLookerIniSection() reads --ini over LOOKER_OAUTH_INI over LOOKERSDK_INI over ./looker.ini", async () => {
  await withDir(async (dir) => {
    for (const name of ["flag", "own", "sdk", "looker"]) {
      await Deno.writeTextFile(
        `${dir}/${name}.ini`,
        `[Looker]\nbase_url=https://${name}\n`,
      );
    }
    const all = {
      LOOKER_OAUTH_INI: `${dir}/own.ini`,
      LOOKERSDK_INI: `${dir}/sdk.ini`,
    };
    const base = async (vars: Record<string, string>, file?: string) =>
      (await readLookerIniSection(env(vars), {
        cwd: dir,
        ...(file ? { file } : {}),
      })).section.base_url;
    assert.equal(await base(all, "flag.ini"), "https://flag");
    assert.equal(await base(all), "https://own");
    assert.equal(
      await base({ LOOKERSDK_INI: `${dir}/sdk.ini` }),
      "https://sdk",
    );
    assert.equal(await base({}), "https://looker");
    await assert.rejects(base({}, "missing.ini"), UsageError);
    await assert.rejects(
      base({ LOOKERSDK_INI: `${dir}/missing.ini` }),
      UsageError,
    );
  });
});

Deno.test("readLookerIni() reads ca_file relative to the ini file, verify_ssl and timeout", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/conf`);
    await Deno.writeTextFile(
      `${dir}/conf/looker.ini`,
      "[Looker]\nbase_url=https://x\nca_file=ca.pem\nverify_ssl=false\ntimeout=45\n",
    );
    const ini = await readLookerIni(env({}), {
      cwd: dir,
      file: "conf/looker.ini",
    });
    assert.equal(ini.caFile, `${dir}/conf/ca.pem`);
    assert.equal(ini.verifySslOff, true);
    assert.equal(ini.timeout, "45");
  });
});

Deno.test("login takes the first section of a looker.ini without [Looker], and --section picks another", async () => {
  await using t = await tempHome();
  await using prod = await startLooker();
  await using staging = await startLooker();
  await Deno.writeTextFile(
    `${t.dir}/looker.ini`,
    [
      "[Production]",
      `base_url=${prod.emulator.apiUrl}`,
      `looker_url=${prod.emulator.lookerUrl}`,
      `redirect_uri=${prod.redirectUri}`,
      `client_id=${prod.clientId}`,
      "[Staging]",
      `base_url=${staging.emulator.apiUrl}`,
      `looker_url=${staging.emulator.lookerUrl}`,
      `redirect_uri=${staging.redirectUri}`,
      `client_id=${staging.clientId}`,
      "",
    ].join("\n"),
  );
  const first = await cli(["login"], {
    home: t.home,
    person: scriptedPerson(),
  });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(prod.emulator.stats.codeExchanges, 1);
  assert.equal(staging.emulator.stats.codeExchanges, 0);

  const picked = await cli(
    ["login", "--section", "Staging", "--profile", "staging"],
    { home: t.home, person: scriptedPerson() },
  );
  assert.equal(picked.code, 0, picked.stderr);
  assert.equal(staging.emulator.stats.codeExchanges, 1);

  const missing = await cli(["login", "--section", "Dev"], { home: t.home });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\[Production\], \[Staging\]/);
  // signIn's flags still beat the ini file.
  await signIn(t, staging, { args: ["--profile", "flags"] });
  assert.equal(staging.emulator.stats.codeExchanges, 2);
});
