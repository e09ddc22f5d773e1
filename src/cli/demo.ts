// `looker-oauth demo`: the whole flow against the built-in Looker emulator.
import { startLookerEmulator } from "../emulator/looker_emulator.ts";
import { browse } from "../emulator/user_agent.ts";
import { currentLookerUser } from "../looker/api.ts";
import { registerLookerApp } from "../looker/register.ts";
import { freeLoopbackPort } from "../loopback/free_port.ts";
import { parseArgs, str, UsageError } from "./_args.ts";
import { EXIT } from "./_errors.ts";
import type { Env, Io } from "./_io.ts";
import { openSession, serverFetch } from "./_session.ts";
import { login } from "./login.ts";

export const HELP =
  `Usage: looker-oauth demo [--auto] [--home DIR] [--timeout SEC]

Runs the whole sign-in against a Looker emulator started on this machine, no
Looker instance needed: registers an OAuth app, signs in through the browser
(authorization code + PKCE, loopback redirect), calls GET /api/4.0/user,
refreshes the token, and logs out, explaining each step on stderr.

With a browser at hand ($BROWSER, or a desktop) you click through the
emulator's sign-in and consent pages yourself (any email and password work).
Without one, or with --auto, the demo plays the person through the same pages.

  --auto        play the person even when a browser is available
  --home DIR    keep the demo's tokens in DIR (default: a temporary folder,
                deleted at the end)
  --timeout SEC how long to wait for you in the browser (default 300)

Exit codes: 0 every step passed; 1 a step failed (it says which one); 2 usage;
130 interrupted (Ctrl-C).`;

const CLIENT_ID = "looker-oauth-demo";

/** What `demo` was asked. */
export interface DemoOptions {
  /** `--auto`: play the person even with a browser at hand. */
  readonly auto: boolean;
  /** `--home DIR`, else a temporary folder deleted at the end. */
  readonly home: string | undefined;
  /** `--timeout`, in seconds. */
  readonly timeoutSec: number;
}

/** Reads `demo`'s flags. */
export function parseDemo(argv: string[], _env: Env): DemoOptions {
  const args = parseArgs(argv, {
    string: ["home", "timeout"],
    boolean: ["auto"],
  }, "demo");
  const timeoutSec = Number(str(args, "timeout") ?? 300);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) {
    throw new UsageError("--timeout takes a number of seconds above 0", "demo");
  }
  return {
    auto: args.flags.auto === true,
    home: str(args, "home"),
    timeoutSec,
  };
}

/** The whole flow against a Looker emulator started in this process. */
export async function runDemo(options: DemoOptions, io: Io): Promise<number> {
  const { timeoutSec } = options;
  const auto = options.auto || !browserAtHand(io);
  const givenHome = options.home;
  const tmp = io.env("TMPDIR");
  const home = givenHome ??
    await Deno.makeTempDir({
      prefix: "looker-oauth-demo-",
      ...(tmp ? { dir: tmp } : {}),
    });
  const say = (text: string) => io.err(text);
  const step = (n: number, text: string) => say(`\n${n}. ${text}`);

  await using emulator = await startLookerEmulator();
  try {
    say(
      "looker-oauth demo: a full sign-in against a Looker emulator on this machine.",
    );
    step(1, "Started a Looker emulator with Looker's two hosts:");
    say(`   UI  (serves /auth, where people sign in)   ${emulator.lookerUrl}`);
    say(`   API (serves /api/token and the API)        ${emulator.apiUrl}`);

    const port = freeLoopbackPort();
    const redirectUri = `http://localhost:${port}/callback`;
    step(
      2,
      `Registering the OAuth app "${CLIENT_ID}" as a Looker admin would, once:`,
    );
    say(`   POST /api/4.0/oauth_client_apps/${CLIENT_ID} with an API3 key,`);
    say(`   redirect URI ${redirectUri} (Looker accepts exactly this one)`);
    await registerLookerApp({
      fetch: serverFetch(io),
      apiUrl: emulator.apiUrl,
      apiClientId: emulator.apiCredentials.clientId,
      apiClientSecret: emulator.apiCredentials.clientSecret,
      clientGuid: CLIENT_ID,
      redirectUri,
      displayName: "looker-oauth demo",
      description:
        "The looker-oauth demo reads your name and e-mail to show that sign-in worked.",
    });

    step(
      3,
      "Signing in: listening on the redirect URI's port, then opening /auth.",
    );
    if (auto) {
      say(
        "   No browser here (or --auto): playing the person, who signs in as ada@example.com and clicks Allow.",
      );
    } else {
      say(
        "   Sign in with any e-mail and password on the emulator's page, then click Allow.",
      );
    }
    const result = await login({
      home,
      profile: "default",
      kind: "looker",
      settings: {
        lookerUrl: emulator.lookerUrl,
        apiUrl: emulator.apiUrl,
        clientId: CLIENT_ID,
        redirectUri,
      },
      insecure: false,
      timeoutSec,
      noBrowser: false,
      nextStepHint: false,
      ...(auto
        ? {
          open: (url: URL) => {
            browse(url, {
              decision: "approve",
              fields: { email: "ada@example.com", password: "demo" },
            }).catch((err) =>
              say(`   the scripted person failed: ${err.message}`)
            );
          },
        }
        : {}),
    }, io);
    say(
      "   The code came back to the loopback receiver, which checked state first,",
    );
    say(
      "   then exchanged it at /api/token on the API host: PKCE S256, client_id in the body, no secret.",
    );

    const { session, store } = await openSession({
      home,
      profile: "default",
      io,
      store: result.store,
    });
    step(4, "Calling the API as the signed-in person: GET /api/4.0/user");
    const me = await currentLookerUser(session);
    io.out(
      `${
        JSON.stringify(
          { id: me.id, display_name: me.display_name, email: me.email },
          null,
          2,
        )
      }\n`,
    );
    say(`   → ${me.display_name} <${me.email}> (printed on stdout)`);

    const before = await store.load();
    step(
      5,
      "Refreshing the access token with the refresh token (grant_type=refresh_token):",
    );
    const after = await session.refresh();
    say(
      `   new access token, valid for ${
        Math.round((after.expiresAt - io.now()) / 60_000)
      } min; the refresh token ${
        after.refreshToken !== before?.refreshToken ? "rotated" : "was kept"
      }. Scripts get this for free: looker-oauth token`,
    );

    step(
      6,
      "Logging out: DELETE /api/4.0/logout, which also ends the refresh token.",
    );
    const old = after.accessToken;
    await session.signOut();
    const check = await fetch(`${emulator.apiUrl}/api/4.0/user`, {
      headers: { authorization: `Bearer ${old}` },
    });
    const body = await check.json().catch(() => ({}));
    say(
      `   the old token now gets ${check.status}${
        body?.message ? ` "${body.message}"` : ""
      }; the local tokens are deleted.`,
    );

    say("\nDone. To sign in to your own Looker:");
    say(
      "   looker-oauth register --api-url https://your.looker.com:19999 --client-id looker-oauth --redirect-uri http://localhost:8080/callback",
    );
    say(
      "   looker-oauth login --looker-url https://your.looker.com --client-id looker-oauth",
    );
    say("   looker-oauth api /user");
    return EXIT.ok;
  } finally {
    if (givenHome === undefined) {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  }
}

/** A browser a person can use: $BROWSER, or a desktop session. */
function browserAtHand(io: Io): boolean {
  if (io.browser || io.env("BROWSER")) return true;
  if (Deno.build.os === "darwin" || Deno.build.os === "windows") return true;
  return Boolean(io.env("DISPLAY") || io.env("WAYLAND_DISPLAY"));
}
