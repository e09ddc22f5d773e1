// Private: the version `--version` prints and `x-looker-appid` carries; a
// test keeps it equal to deno.json's.
export const VERSION = "0.1.0";
