// The few pages the helpers answer with themselves: a 400 (or 405, 502)
// saying what went wrong and how to start again. They never echo anything
// from the request.

import { escapeHtml } from "../core/html.ts";

/** Headers every page and redirect of the helpers carries. */
export function baseHeaders(): Headers {
  return new Headers({
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
}

/** An HTML error page with the error's stable code. */
export function errorResponse(
  status: number,
  problem: { code: string; message: string; hint?: string | undefined },
  headers: Headers = baseHeaders(),
): Response {
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set(
    "content-security-policy",
    "default-src 'none'; style-src 'unsafe-inline'",
  );
  const hint = problem.hint ? `<p>${escapeHtml(problem.hint)}</p>` : "";
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>Sign-in failed</h1>
<p id="message">${escapeHtml(problem.message)}</p>${hint}
<p><small>Error code: <code id="code">${
    escapeHtml(problem.code)
  }</code></small></p>
<p><a href="/">Back to the start page</a></p>
</body></html>
`;
  return new Response(body, { status, headers });
}
