// Private to the Looker emulator: the UI host — `GET /auth` (the
// authorization endpoint), the sign-in page and the consent page. It checks
// the client and redirect URI before anything is sent back to the app, and
// answers the Looker way (`redirect_uri?&code=...&state=...`).
import {
  consentPage,
  type Detail,
  errorPage,
  html,
  loginPage,
} from "./_pages.ts";
import type { CodeRequest, EmulatorState, Pending, Session } from "./_state.ts";
import { PENDING_TTL_MS } from "./_state.ts";
import {
  apiNotFound,
  cookiesOf,
  randomToken,
  S256_CHALLENGE,
  sameString,
  withParams,
} from "./_util.ts";

const SESSION_COOKIE = "looker_emulator_session";

/** The UI host's request handler over the emulator's state. */
export class UiHost {
  readonly #state: EmulatorState;

  constructor(state: EmulatorState) {
    this.#state = state;
  }

  /** Answers one request to the UI host. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    if (path === "/auth" && method === "GET") {
      return this.#authorize(request, url);
    }
    if (path === "/login" && method === "GET") {
      return this.#loginForm(request, url);
    }
    if (path === "/login" && method === "POST") {
      return await this.#login(request);
    }
    if (path === "/auth/consent" && method === "GET") {
      return this.#consentForm(request, url);
    }
    if (path === "/auth/consent" && method === "POST") {
      return await this.#consent(request);
    }
    if (path === "/api" || path.startsWith("/api/")) return apiNotFound();
    return html(
      404,
      errorPage(
        "Page not found",
        "This Looker emulator serves only the sign-in pages of the OAuth flow.",
        [{ label: "Path", value: path }],
        "Sign-in starts at /auth, where an app sends you. The API, /api/token included, is on the API host.",
      ),
    );
  }

  /** `GET /auth`: validate, then sign-in, consent, or straight back. */
  #authorize(request: Request, url: URL): Response {
    const query = url.searchParams;
    const single = (name: string): string | undefined | null => {
      const all = query.getAll(name);
      return all.length === 0 ? undefined : all.length === 1 ? all[0]! : null;
    };
    const clientId = single("client_id");
    if (clientId === undefined || clientId === "" || clientId === null) {
      return badAuthRequest(
        "No client_id",
        clientId === null
          ? "The request repeats client_id; send it once."
          : "The request does not say which app is signing in: client_id is missing.",
      );
    }
    const app = this.#state.apps.get(clientId);
    if (!app) {
      return badAuthRequest(
        "Unknown app",
        "No OAuth client app is registered with this client_id.",
        [{ label: "client_id", value: clientId }],
        "Register it first with register_oauth_client_app (POST /api/4.0/oauth_client_apps/{client_guid}), or check the client id.",
      );
    }
    if (!app.enabled) {
      return badAuthRequest(
        "App disabled",
        "The OAuth client app is registered but disabled.",
        [{ label: "client_id", value: clientId }],
        "Enable it with update_oauth_client_app (PATCH /api/4.0/oauth_client_apps/{client_guid}).",
      );
    }
    const redirectUri = single("redirect_uri");
    if (redirectUri === undefined || redirectUri === null) {
      return badAuthRequest(
        "No redirect_uri",
        redirectUri === null
          ? "The request repeats redirect_uri; send it once."
          : "The request does not say where to send the answer: redirect_uri is missing.",
        [{ label: "Registered redirect_uri", value: app.redirect_uri }],
      );
    }
    if (redirectUri !== app.redirect_uri) {
      return badAuthRequest(
        "redirect_uri mismatch",
        "The redirect_uri does not match the one registered for this app. It must be equal character for character: scheme, host, port and path.",
        [
          { label: "Requested redirect_uri", value: redirectUri },
          { label: "Registered redirect_uri", value: app.redirect_uri },
        ],
        "You are not being redirected, because the requested address is not trusted.",
      );
    }

    // From here on, errors go back to the (verified) redirect URI.
    const stateValues = query.getAll("state");
    const state = stateValues.length === 1 ? stateValues[0] : undefined;
    const refuse = (description: string): Response =>
      redirect(
        withParams(redirectUri, {
          error: "invalid_request",
          error_description: description,
          state,
        }, false),
      );
    for (const name of new Set(query.keys())) {
      if (query.getAll(name).length > 1) {
        return refuse(`the parameter ${name} is repeated`);
      }
    }
    const responseType = single("response_type");
    if (responseType !== "code") {
      return refuse("response_type must be code");
    }
    const challenge = single("code_challenge");
    if (!challenge) return refuse("code_challenge is required (PKCE)");
    if (single("code_challenge_method") !== "S256") {
      return refuse("code_challenge_method must be S256");
    }
    if (!S256_CHALLENGE.test(challenge)) {
      return refuse("code_challenge is not a base64url SHA-256 hash");
    }

    const fields = { clientId, redirectUri, state, challenge };
    if (this.#state.autoApprove) return this.#grantCode(fields);
    const { session, cookie } = this.#sessionFor(request);
    if (session.signedIn && session.consented.has(clientId)) {
      return this.#grantCode(fields, cookie);
    }
    const pending: Pending = {
      id: randomToken(16),
      sessionId: session.id,
      expiresAt: this.#state.now() + PENDING_TTL_MS,
      ...fields,
    };
    this.#state.pending.set(pending.id, pending);
    const next = session.signedIn ? "/auth/consent" : "/login";
    return redirect(
      `${next}?request=${encodeURIComponent(pending.id)}`,
      cookie,
    );
  }

  /** `GET /login?request=...`. */
  #loginForm(request: Request, url: URL): Response {
    const found = this.#findPending(request, url.searchParams.get("request"));
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (session.signedIn) {
      return redirect(
        `/auth/consent?request=${encodeURIComponent(pending.id)}`,
      );
    }
    return html(200, this.#loginPage(session, pending));
  }

  /** `POST /login`: any email and password; Cancel declines. */
  async #login(request: Request): Promise<Response> {
    const form = await readForm(request);
    const found = this.#findPending(request, form.get("request"), form);
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (form.get("decision") === "deny") return this.#decline(pending);
    const email = (form.get("email") ?? "").trim();
    const password = form.get("password") ?? "";
    if (email === "" || password === "") {
      return html(
        400,
        this.#loginPage(session, pending, "Enter an email and a password."),
      );
    }
    // A new session id at sign-in, so a planted cookie is worth nothing.
    this.#state.sessions.delete(session.id);
    const old = session.id;
    session.id = randomToken();
    session.csrf = randomToken();
    session.signedIn = true;
    this.#state.sessions.set(session.id, session);
    for (const other of this.#state.pending.values()) {
      if (other.sessionId === old) other.sessionId = session.id;
    }
    const cookie = sessionCookie(session.id);
    if (session.consented.has(pending.clientId)) {
      return this.#finish(pending, cookie);
    }
    return redirect(
      `/auth/consent?request=${encodeURIComponent(pending.id)}`,
      cookie,
    );
  }

  /** `GET /auth/consent?request=...`. */
  #consentForm(request: Request, url: URL): Response {
    const found = this.#findPending(request, url.searchParams.get("request"));
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (!session.signedIn) {
      return redirect(`/login?request=${encodeURIComponent(pending.id)}`);
    }
    const app = this.#state.apps.get(pending.clientId);
    if (!app) return this.#appGone(pending);
    return html(
      200,
      consentPage({
        appName: app.display_name || app.client_guid,
        description: app.description,
        userName: this.#state.user.display_name,
        userEmail: this.#state.user.email,
        redirectUri: pending.redirectUri,
        csrf: session.csrf,
        request: pending.id,
      }),
    );
  }

  /** `POST /auth/consent`: Allow or Deny. */
  async #consent(request: Request): Promise<Response> {
    const form = await readForm(request);
    const found = this.#findPending(request, form.get("request"), form);
    if (found instanceof Response) return found;
    const { session, pending } = found;
    if (!session.signedIn) {
      return redirect(`/login?request=${encodeURIComponent(pending.id)}`);
    }
    const decision = form.get("decision");
    if (decision === "deny") return this.#decline(pending);
    if (decision !== "allow") {
      return badAuthRequest(
        "No decision",
        "Choose Allow or Deny on the consent page.",
      );
    }
    session.consented.add(pending.clientId);
    return this.#finish(pending);
  }

  #loginPage(session: Session, pending: Pending, error?: string): string {
    const app = this.#state.apps.get(pending.clientId);
    return loginPage({
      appName: app?.display_name || pending.clientId,
      email: this.#state.user.email,
      csrf: session.csrf,
      request: pending.id,
      ...(error === undefined ? {} : { error }),
    });
  }

  /**
   * Finds the session (by cookie) and its pending request, checking the CSRF
   * token of a form post. Any failure is an error page.
   */
  #findPending(
    request: Request,
    id: string | null | undefined,
    form?: URLSearchParams,
  ): { session: Session; pending: Pending } | Response {
    const sessionId = cookiesOf(request).get(SESSION_COOKIE);
    const session = sessionId ? this.#state.sessions.get(sessionId) : undefined;
    if (!session) {
      return badAuthRequest(
        "Session expired",
        "This browser has no Looker session: cookies may be blocked, or the emulator was restarted.",
        [],
        "Start the sign-in again from the app.",
      );
    }
    if (form && !sameString(form.get("csrf_token") ?? "", session.csrf)) {
      return html(
        403,
        errorPage(
          "Request refused",
          "The form did not come from this browser's sign-in page (bad CSRF token).",
          [],
          "Start the sign-in again from the app.",
        ),
      );
    }
    const pending = id ? this.#state.pending.get(id) : undefined;
    if (
      !pending || pending.sessionId !== session.id ||
      pending.expiresAt <= this.#state.now()
    ) {
      if (pending && pending.expiresAt <= this.#state.now()) {
        this.#state.pending.delete(pending.id);
      }
      return badAuthRequest(
        "Sign-in expired",
        "This sign-in request is unknown, finished, expired, or belongs to another browser.",
        [],
        "Start the sign-in again from the app.",
      );
    }
    return { session, pending };
  }

  /** Sends the person back with a code, if the app still allows it. */
  #finish(pending: Pending, cookie?: string): Response {
    this.#state.pending.delete(pending.id);
    const app = this.#state.apps.get(pending.clientId);
    if (!app || !app.enabled || app.redirect_uri !== pending.redirectUri) {
      return this.#appGone(pending);
    }
    return this.#grantCode(pending, cookie);
  }

  #decline(pending: Pending): Response {
    this.#state.pending.delete(pending.id);
    return redirect(
      withParams(pending.redirectUri, {
        error: "access_denied",
        state: pending.state,
      }, false),
    );
  }

  #appGone(pending: Pending): Response {
    this.#state.pending.delete(pending.id);
    return badAuthRequest(
      "App changed",
      "The OAuth client app was removed, disabled or changed during the sign-in.",
      [{ label: "client_id", value: pending.clientId }],
      "Start the sign-in again from the app.",
    );
  }

  #grantCode(request: CodeRequest, cookie?: string): Response {
    const code = this.#state.issueCode(request);
    return redirect(
      withParams(request.redirectUri, { code, state: request.state }, true),
      cookie,
    );
  }

  #sessionFor(request: Request): { session: Session; cookie?: string } {
    const id = cookiesOf(request).get(SESSION_COOKIE);
    const existing = id ? this.#state.sessions.get(id) : undefined;
    if (existing) return { session: existing };
    const session: Session = {
      id: randomToken(),
      csrf: randomToken(),
      signedIn: false,
      consented: new Set(),
    };
    this.#state.sessions.set(session.id, session);
    return { session, cookie: sessionCookie(session.id) };
  }
}

async function readForm(request: Request): Promise<URLSearchParams> {
  try {
    return new URLSearchParams(await request.text());
  } catch {
    return new URLSearchParams();
  }
}

function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`;
}

function redirect(location: string, cookie?: string): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  if (cookie) headers.append("set-cookie", cookie);
  return new Response(null, { status: 302, headers });
}

function badAuthRequest(
  title: string,
  explanation: string,
  details: readonly Detail[] = [],
  advice?: string,
): Response {
  return html(400, errorPage(title, explanation, details, advice));
}
