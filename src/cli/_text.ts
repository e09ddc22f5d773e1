// Private: text from a server (a user's name, a scope, an API error message)
// made safe to show on a terminal. Control characters (C0, DEL, C1) could
// move the cursor, retitle or clear the terminal, or hide what precedes
// them; bidirectional overrides could reorder what is shown. Each becomes
// U+FFFD. `--json` output is left exact: JSON.stringify escapes C0 itself.

const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character replaced by U+FFFD. */
export function shown(text: string): string {
  return text.replace(UNSAFE, "\uFFFD");
}

/** `text` line by line as {@linkcode shown}, keeping its line breaks. */
export function shownLines(text: string): string {
  return text.split("\n").map(shown).join("\n");
}
