import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../../src/cli/_args.ts";

const SPEC = {
  string: ["profile", "method", "data"],
  boolean: ["json", "browser"],
  alias: { X: "method" },
  maxPositionals: 1,
} as const;

Deno.test("parseArgs() reads --name value, --name=value and -X value", () => {
  const args = parseArgs(
    ["--profile", "work", '--data={"a":1}', "-X", "PATCH", "/user"],
    SPEC,
    "api",
  );
  assert.equal(args.flags.profile, "work");
  assert.equal(args.flags.data, '{"a":1}');
  assert.equal(args.flags.method, "PATCH");
  assert.deepEqual(args.positionals, ["/user"]);
});

Deno.test("parseArgs() reads --flag and --no-flag", () => {
  const args = parseArgs(["--json", "--no-browser"], SPEC, "login");
  assert.equal(args.flags.json, true);
  assert.equal(args.flags.browser, false);
});

Deno.test("parseArgs() keeps everything after -- as positionals", () => {
  const args = parseArgs(["--", "--json"], SPEC, "api");
  assert.deepEqual(args.positionals, ["--json"]);
  assert.equal(args.flags.json, undefined);
});

Deno.test("parseArgs() rejects an unknown flag and suggests the closest one", () => {
  assert.throws(
    () => parseArgs(["--profle", "x"], SPEC, "token"),
    (err: unknown) =>
      err instanceof UsageError && err.command === "token" &&
      err.message.includes("--profile"),
  );
});

Deno.test("parseArgs() rejects a value flag without its value", () => {
  assert.throws(() => parseArgs(["--profile"], SPEC, "token"), UsageError);
  assert.throws(
    () => parseArgs(["--profile", "--json"], SPEC, "token"),
    UsageError,
  );
});

Deno.test("parseArgs() rejects a value given to a boolean flag", () => {
  assert.throws(() => parseArgs(["--json=yes"], SPEC, "status"), UsageError);
});

Deno.test("parseArgs() rejects extra positionals", () => {
  assert.throws(() => parseArgs(["/a", "/b"], SPEC, "api"), UsageError);
  assert.throws(
    () => parseArgs(["stray"], { string: ["profile"] }, "token"),
    UsageError,
  );
});

Deno.test("parseArgs() accepts -h and --help on every command", () => {
  assert.equal(parseArgs(["-h"], {}, "token").flags.help, true);
  assert.equal(parseArgs(["--help"], {}, "status").flags.help, true);
});

Deno.test("parseArgs() treats a lone - as a positional (stdin)", () => {
  const args = parseArgs(["-"], SPEC, "api");
  assert.deepEqual(args.positionals, ["-"]);
});
