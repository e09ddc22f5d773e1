/**
 * A scripted person with a browser: follows redirects, keeps cookies, fills
 * and submits sign-in and consent forms. `looker-oauth demo --auto` and the
 * tests use it to play the person on the emulator's and oidc-provider's pages.
 *
 * It understands plain HTML forms and links, nothing more: no JavaScript.
 *
 * @module
 */

/** What the scripted person does on a consent page. */
export type Decision = "approve" | "deny";

/** Options for {@linkcode browse}. */
export interface BrowseOptions {
  /** Approve (default) or deny when asked. */
  decision?: Decision;
  /** Values typed into text and password fields, by field name. */
  fields?: Readonly<Record<string, string>>;
  /** Most requests before giving up. Default 20. */
  maxSteps?: number;
  /** The `fetch` to use. */
  fetch?: typeof fetch;
  /** Called with each URL visited, for logs. */
  onVisit?: (url: URL, status: number) => void;
}

/** Where the scripted person ended up. */
export interface BrowseResult {
  /** The last URL loaded. */
  readonly url: URL;
  /** Its status. */
  readonly status: number;
  /** Its body. */
  readonly body: string;
  /** Every URL visited, in order. */
  readonly visited: readonly URL[];
}

const APPROVE =
  /\b(approve|allow|accept|authori[sz]e|continue|confirm|sign[- ]?in|log[- ]?in|yes|submit)\b/i;
const DENY = /\b(deny|decline|cancel|abort|reject|no)\b/i;

/**
 * Opens `url` like a person would: follows redirects, sends cookies back,
 * submits the page's form (choosing the approve or deny button), until a page
 * with nothing left to do.
 *
 * @param url The authorization URL.
 * @param options What to decide and type.
 * @returns The last page.
 * @throws {Error} When it loops for more than `maxSteps` requests.
 *
 * @example
 * ```ts ignore
 * import type { PendingAuthorization } from "@looker-oauth/pkce/core";
 * import { browse } from "./user_agent.ts";
 *
 * declare const pending: PendingAuthorization; // from startAuthorization()
 * const page = await browse(pending.url, { decision: "approve" });
 * console.log(page.status);
 * ```
 */
export async function browse(
  url: string | URL,
  options: BrowseOptions = {},
): Promise<BrowseResult> {
  const send = options.fetch ?? globalThis.fetch;
  const decision = options.decision ?? "approve";
  const jar = new Map<string, Map<string, string>>();
  const visited: URL[] = [];
  let next: { url: URL; init: RequestInit } = {
    url: new URL(url),
    init: { method: "GET" },
  };
  for (let step = 0; step < (options.maxSteps ?? 20); step++) {
    const headers = new Headers(next.init.headers);
    const cookies = jar.get(next.url.host);
    if (cookies && cookies.size > 0) {
      headers.set(
        "cookie",
        [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      );
    }
    headers.set("accept", "text/html,application/xhtml+xml");
    const response = await send(next.url, {
      ...next.init,
      headers,
      redirect: "manual",
    });
    visited.push(next.url);
    options.onVisit?.(next.url, response.status);
    remember(jar, next.url.host, response.headers);
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      next = { url: new URL(location, next.url), init: { method: "GET" } };
      continue;
    }
    const body = await response.text();
    const action = response.ok
      ? nextAction(body, next.url, decision, options.fields ?? {})
      : undefined;
    if (!action) {
      return { url: next.url, status: response.status, body, visited };
    }
    next = action;
  }
  throw new Error(`gave up after ${options.maxSteps ?? 20} requests`);
}

function remember(
  jar: Map<string, Map<string, string>>,
  host: string,
  headers: Headers,
): void {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair?.indexOf("=") ?? -1;
    if (!pair || eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const cookies = jar.get(host) ?? new Map<string, string>();
    if (
      /;\s*max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)
    ) {
      cookies.delete(name);
    } else {
      cookies.set(name, value);
    }
    jar.set(host, cookies);
  }
}

interface Control {
  tag: string;
  type: string;
  name: string | undefined;
  value: string;
  label: string;
}

/** Finds what a person would do on this page: submit its form, or follow a deny link. */
function nextAction(
  html: string,
  base: URL,
  decision: Decision,
  fields: Readonly<Record<string, string>>,
): { url: URL; init: RequestInit } | undefined {
  const want = decision === "approve" ? APPROVE : DENY;
  for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = form[1] ?? "";
    const controls = parseControls(form[2] ?? "");
    const buttons = controls.filter((c) =>
      c.tag === "button" || (c.tag === "input" && c.type === "submit")
    );
    const button = buttons.find((b) => want.test(b.label)) ??
      (decision === "approve" && buttons.length === 1 ? buttons[0] : undefined);
    if (!button && buttons.length > 0) continue;
    if (!button && decision === "deny") continue;
    const data = new URLSearchParams();
    for (const c of controls) {
      if (c.tag === "button" || c.type === "submit" || !c.name) continue;
      if (
        (c.type === "checkbox" || c.type === "radio") &&
        !/checked/.test(c.label)
      ) continue;
      const typed = fields[c.name];
      data.append(
        c.name,
        typed ??
          (c.value ||
            (c.type === "password"
              ? "password"
              : c.type === "email"
              ? "person@example.com"
              : c.value || "person")),
      );
    }
    if (button?.name) data.append(button.name, button.value);
    const method = (attr(attrs, "method") ?? "get").toUpperCase();
    const action = new URL(decode(attr(attrs, "action") ?? ""), base);
    if (method === "POST") {
      return {
        url: action,
        init: {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: data.toString(),
        },
      };
    }
    action.search = data.toString();
    return { url: action, init: { method: "GET" } };
  }
  if (decision === "deny") {
    for (const link of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)) {
      const href = attr(link[1] ?? "", "href");
      if (href && DENY.test(strip(link[2] ?? ""))) {
        return { url: new URL(decode(href), base), init: { method: "GET" } };
      }
    }
  }
  return undefined;
}

function parseControls(html: string): Control[] {
  const controls: Control[] = [];
  const re = /<(input|button|select|textarea)\b([^>]*)>(?:([\s\S]*?)<\/\1>)?/gi;
  for (const m of html.matchAll(re)) {
    const tag = (m[1] ?? "").toLowerCase();
    const attrs = m[2] ?? "";
    const inner = m[3] ?? "";
    const type = (attr(attrs, "type") ?? (tag === "button" ? "submit" : "text"))
      .toLowerCase();
    if (tag === "button" && type !== "submit") continue;
    controls.push({
      tag,
      type,
      name: attr(attrs, "name"),
      value: decode(attr(attrs, "value") ?? (tag === "textarea" ? inner : "")),
      label: `${strip(inner)} ${attr(attrs, "value") ?? ""} ${
        attr(attrs, "name") ?? ""
      } ${/\bchecked\b/i.test(attrs) ? "checked" : ""}`,
    });
  }
  return controls;
}

function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(
    `\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`,
    "i",
  ).exec(attrs);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function strip(html: string): string {
  return decode(html.replace(/<[^>]*>/g, " ")).replace(/\s+/g, " ").trim();
}

function decode(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39|#x27);/g,
    (_, e: string) =>
      ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" })[e] ??
        _,
  );
}
