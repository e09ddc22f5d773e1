// Private: the emulator's HTML pages. Small, self-explanatory, no scripts,
// inline CSS, and every interpolated value escaped.

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f2fa;color:#1f1d2b}
main{width:100%;max-width:28rem;margin:2rem 1rem;padding:2rem;background:#fff;border-radius:12px;
box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(60,40,120,.08)}
.brand{margin:0 0 1.5rem;font-weight:600;color:#5b37c8;letter-spacing:.01em}
.badge{margin-left:.4rem;padding:.1rem .45rem;border-radius:999px;background:#ece6fb;color:#5b37c8;
font-size:.72rem;font-weight:600;text-transform:uppercase;vertical-align:middle}
h1{margin:0 0 .75rem;font-size:1.35rem;line-height:1.3}
h2{margin:0 0 .25rem;font-size:1rem}
p{margin:0 0 1rem}
.muted{color:#5e5a6e;font-size:.9rem}
.app{margin:0 0 1rem;padding:1rem;border:1px solid #e4e0ef;border-radius:8px;background:#faf9fd}
.app p{margin:0;white-space:pre-line}
label{display:block;margin:0 0 .3rem;font-weight:600;font-size:.9rem}
input[type=email],input[type=password]{width:100%;margin:0 0 1rem;padding:.6rem .7rem;font:inherit;
border:1px solid #cfc9de;border-radius:6px}
input:focus,button:focus{outline:2px solid #8b6cf0;outline-offset:1px}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
.stack{flex-direction:column}
button{flex:1;padding:.65rem 1rem;font:inherit;font-weight:600;border-radius:6px;cursor:pointer;
border:1px solid #5b37c8;background:#5b37c8;color:#fff}
button.secondary{background:#fff;color:#5b37c8}
button:hover{filter:brightness(.95)}
code{font:.85rem ui-monospace,SFMono-Regular,Menlo,monospace;background:#f1eff7;padding:.1rem .3rem;
border-radius:4px;word-break:break-all}
dl{margin:0 0 1rem}dt{font-weight:600;font-size:.9rem}dd{margin:0 0 .6rem}
.error h1{color:#a4262c}
.alert{padding:.6rem .8rem;border-radius:6px;background:#fdecee;color:#a4262c}
footer{margin-top:1.5rem;color:#8a8699;font-size:.8rem}
`;

/** Wraps a page body in the shared document. */
function document(title: string, body: string, className = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Looker emulator</title>
<style>${STYLE}</style>
</head>
<body>
<main${className ? ` class="${className}"` : ""}>
<p class="brand">Looker<span class="badge">emulator</span></p>
${body}
<footer>A Looker instance emulated on your computer by looker-oauth. No real Looker data is involved.</footer>
</main>
</body>
</html>
`;
}

/** What the sign-in page shows. */
export interface LoginPageModel {
  readonly appName: string;
  readonly email: string;
  readonly csrf: string;
  readonly request: string;
  readonly error?: string;
}

/** The sign-in page: email, password (anything is accepted), Sign in or Cancel. */
export function loginPage(model: LoginPageModel): string {
  return document(
    "Sign in",
    `<h1>Sign in to Looker</h1>
<p class="muted">to continue to <strong>${escapeHtml(model.appName)}</strong>.
This emulator accepts any email and password.</p>
${
      model.error
        ? `<p class="alert" role="alert">${escapeHtml(model.error)}</p>`
        : ""
    }
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="${escapeHtml(model.csrf)}">
<input type="hidden" name="request" value="${escapeHtml(model.request)}">
<label for="email">Email</label>
<input id="email" type="email" name="email" value="${
      escapeHtml(model.email)
    }" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" type="password" name="password" autocomplete="current-password" placeholder="any password" required autofocus>
<div class="actions stack">
<button type="submit">Sign in</button>
<button type="submit" class="secondary" name="decision" value="deny" formnovalidate>Cancel</button>
</div>
</form>`,
  );
}

/** What the consent page shows. */
export interface ConsentPageModel {
  readonly appName: string;
  readonly description: string;
  readonly userName: string;
  readonly userEmail: string;
  readonly redirectUri: string;
  readonly csrf: string;
  readonly request: string;
}

/** Looker's "disclosure and confirmation" page: the app, Allow or Deny. */
export function consentPage(model: ConsentPageModel): string {
  return document(
    "Allow access",
    `<h1>Allow ${escapeHtml(model.appName)} to use your Looker account?</h1>
<p class="muted">Signed in as <strong>${escapeHtml(model.userName)}</strong> (${
      escapeHtml(model.userEmail)
    })</p>
<section class="app" aria-label="About the app">
<h2>${escapeHtml(model.appName)}</h2>
<p>${escapeHtml(model.description || "This app gave no description.")}</p>
</section>
<p class="muted">If you allow, the app can call the Looker API as you until you sign out of it.
Either way you will be sent back to <code>${
      escapeHtml(model.redirectUri)
    }</code>.</p>
<form method="post" action="/auth/consent">
<input type="hidden" name="csrf_token" value="${escapeHtml(model.csrf)}">
<input type="hidden" name="request" value="${escapeHtml(model.request)}">
<div class="actions">
<button type="submit" class="secondary" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>`,
  );
}

/** One labelled value on an error page. */
export interface Detail {
  readonly label: string;
  readonly value: string;
}

/** A page that explains what went wrong, with no way forward but back. */
export function errorPage(
  title: string,
  explanation: string,
  details: readonly Detail[] = [],
  advice?: string,
): string {
  const list = details.length === 0
    ? ""
    : `<dl>${
      details.map((d) =>
        `<dt>${escapeHtml(d.label)}</dt><dd><code>${
          escapeHtml(d.value)
        }</code></dd>`
      ).join("")
    }</dl>`;
  return document(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(explanation)}</p>
${list}
${advice ? `<p class="muted">${escapeHtml(advice)}</p>` : ""}`,
    "error",
  );
}

/** Security headers every page carries. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** An HTML response with the page headers. */
export function html(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...PAGE_HEADERS, ...headers },
  });
}
