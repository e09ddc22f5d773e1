// Shared inside the package, not part of the public API: TokenSession's
// default margin, which the CLI's `token` also applies to its cached token
// without loading the rest of the core. No imports, so that read stays cheap.

/** Refresh when fewer than this many ms remain before the token expires. */
export const DEFAULT_REFRESH_MARGIN_MS = 60_000;
