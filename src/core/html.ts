// HTML escaping for the pages the package answers with itself (the loopback
// receiver's and the server helpers'). Shared inside the package, not part
// of the public API: src/core/mod.ts does not export it.

/**
 * Escapes text for HTML content and quoted attribute values: `& < > " '`
 * and the backtick become numeric character references.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}
