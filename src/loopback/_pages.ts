// Private: the small pages the person sees in the browser after the redirect.
// They never show the code, the state or a token, and they strip the query
// from the address bar and history.

/** How a page looks. */
export type PageKind = "success" | "failure" | "ignored";

import { escapeHtml } from "../core/html.ts";

/** A complete response: the page and its protective headers. */
export function page(
  status: number,
  kind: PageKind,
  title: string,
  message: string,
): Response {
  const nonce = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  const mark = kind === "success" ? "✓" : kind === "failure" ? "✕" : "!";
  const color = kind === "success"
    ? "#137333"
    : kind === "failure"
    ? "#b3261e"
    : "#8a6d00";
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · looker-oauth</title>
<style>
  body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
         min-height: 100vh; display: grid; place-items: center; background: #f6f7f9; color: #1f2328; }
  main { background: #fff; border: 1px solid #d8dde3; border-radius: 12px; padding: 32px 40px;
         max-width: 28rem; box-shadow: 0 1px 3px rgba(0,0,0,.06); text-align: center; }
  .mark { font-size: 40px; color: ${color}; line-height: 1; }
  h1 { font-size: 20px; margin: 12px 0 8px; }
  p { margin: 0; color: #57606a; }
</style>
</head>
<body>
<main>
  <div class="mark" aria-hidden="true">${mark}</div>
  <h1 id="title">${escapeHtml(title)}</h1>
  <p id="message">${escapeHtml(message)}</p>
</main>
<script nonce="${nonce}">
  history.replaceState(null, "", location.pathname);
  ${
    kind === "ignored"
      ? ""
      : "setTimeout(function () { window.close(); }, 1500);"
  }
</script>
</body>
</html>
`;
  return new Response(body, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "pragma": "no-cache",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "content-security-policy":
        `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'`,
    },
  });
}

/** A plain-text answer for requests that are not the callback. */
export function plain(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${text}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}
