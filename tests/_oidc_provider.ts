/**
 * Test harness: panva's certified `oidc-provider`, in-process on 127.0.0.1,
 * with one public native client (PKCE required, loopback redirects on any
 * port, rotating refresh tokens, RFC 7009 revocation, RFC 9207 `iss`).
 *
 * The person is played by `browse()` from `src/emulator/user_agent.ts`:
 * devInteractions' login form takes any login and password, then a consent
 * form ("Continue"); its "Cancel" link aborts with `access_denied`.
 *
 * @module
 */
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** Options for {@linkcode startOidcProvider}. */
export interface OidcProviderOptions {
  /** The public client's id. Default `"test-native-app"`. */
  clientId?: string;
  /**
   * Registered redirect URIs. Loopback `http:` URIs match on any port
   * (RFC 8252 §7.3). Default `["http://127.0.0.1/callback"]`.
   */
  redirectUris?: string[];
  /** Rotate refresh tokens on every use. Default `true`. */
  rotateRefreshTokens?: boolean;
  /** Offer RFC 7009 revocation. Default `true`. */
  revocation?: boolean;
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number;
  /**
   * Refuse an `openid` authorization request without a `nonce`
   * (`invalid_request`, "nonce required"), as some providers do although
   * OpenID Connect makes it optional in the code flow. Default `false`.
   */
  requireNonce?: boolean;
  /**
   * Match redirect URIs exactly, port included (a `web` client), instead of
   * on any loopback port (RFC 8252 §7.3). Default `false`.
   */
  exactRedirectUris?: boolean;
  /**
   * What the revocation endpoint does: `revoke` (default); `invalid_client`
   * (the provider refuses the client: 401 `invalid_client`); `401` (a bare
   * 401 with an empty body); `503` (a failure that may pass).
   */
  revocationAnswer?: "revoke" | "invalid_client" | "401" | "503";
  /**
   * Published as `revocation_endpoint_auth_methods_supported` (the provider
   * publishes none by default).
   */
  revocationAuthMethods?: string[];
  /**
   * Changes the discovery document before it is sent: inaccurate metadata
   * that the provider itself does not act on.
   */
  editMetadata?: (metadata: Record<string, unknown>) => void;
}

/** What the provider has seen, for assertions. */
export interface OidcProviderStats {
  /** Requests to the token endpoint, any grant, any outcome. */
  tokenRequests: number;
  /** Requests to the token endpoint with `grant_type=refresh_token`. */
  refreshes: number;
  /** Requests to the revocation endpoint. */
  revocations: number;
  /** Errors the provider turned into `server_error` answers. */
  serverErrors: unknown[];
}

/** A running provider. `await using` closes it. */
export interface OidcProviderHandle extends AsyncDisposable {
  /** The issuer identifier, `http://127.0.0.1:PORT`. */
  readonly issuer: string;
  /** The registered public client's id. */
  readonly clientId: string;
  /** The registered redirect URIs. */
  readonly redirectUris: readonly string[];
  /** Counters, updated as requests complete. */
  readonly stats: OidcProviderStats;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

// The parts of oidc-provider's API used here (it ships no types).
interface ProviderContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  oidc?: { route?: string; params?: Record<string, unknown> };
}
interface Provider {
  use(
    middleware: (
      ctx: ProviderContext,
      next: () => Promise<void>,
    ) => Promise<void>,
  ): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderClass = new (issuer: string, config: unknown) => Provider;
type ErrorClass = new (...args: unknown[]) => Error;
interface ProviderModule {
  Provider: ProviderClass;
  errors: Record<"InvalidRequest" | "InvalidClientAuth", ErrorClass>;
}

// oidc-provider prints two notices no configuration turns off: one when the
// module loads under a runtime other than Node.js LTS, and one per provider
// when devInteractions are on. Only these exact lines are dropped, and only
// while the module loads or a provider is built.
const EXPECTED_NOTICES = [
  "oidc-provider WARNING: Unsupported runtime.",
  "oidc-provider WARNING: a quick start development-only feature devInteractions is enabled",
];

async function withoutExpectedNotices<T>(
  fn: () => T | Promise<T>,
): Promise<T> {
  // deno-lint-ignore no-console
  const warn = console.warn;
  // deno-lint-ignore no-console
  console.warn = (...args: unknown[]) => {
    // The notice may be wrapped in colour codes when stderr is a terminal.
    const first = String(args[0]);
    if (!EXPECTED_NOTICES.some((notice) => first.includes(notice))) {
      warn(...args);
    }
  };
  try {
    return await fn();
  } finally {
    // deno-lint-ignore no-console
    console.warn = warn;
  }
}

let providerModule: Promise<ProviderModule> | undefined;
function loadProvider(): Promise<ProviderModule> {
  providerModule ??= withoutExpectedNotices(async () => {
    const mod = await import("oidc-provider");
    return {
      Provider: (mod.Provider ?? mod.default) as ProviderClass,
      errors: mod.errors as ProviderModule["errors"],
    };
  });
  return providerModule;
}

let signingKey: Promise<JsonWebKey> | undefined;
/** One RS256 key per process (the provider signs ID tokens with it). */
function loadSigningKey(): Promise<JsonWebKey> {
  signingKey ??= (async () => {
    const pair = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    );
    const { key_ops: _ops, ext: _ext, ...jwk } = await crypto.subtle
      .exportKey("jwk", pair.privateKey);
    return { ...jwk, alg: "RS256", use: "sig" };
  })();
  return signingKey;
}

interface Stored {
  payload: Record<string, unknown> & { grantId?: string; uid?: string };
  expiresAt: number;
}

/**
 * A per-provider in-memory adapter (oidc-provider's own is fine too, but
 * warns on every start). Models: Session, Grant, AccessToken, RefreshToken,
 * AuthorizationCode, Interaction, ...
 */
function memoryAdapter(): (model: string) => unknown {
  const rows = new Map<string, Stored>();
  const live = (key: string): Stored | undefined => {
    const row = rows.get(key);
    if (row && row.expiresAt <= Date.now()) {
      rows.delete(key);
      return undefined;
    }
    return row;
  };
  return (model) => ({
    upsert(id: string, payload: Stored["payload"], expiresIn?: number) {
      rows.set(`${model}:${id}`, {
        payload,
        expiresAt: typeof expiresIn === "number"
          ? Date.now() + expiresIn * 1000
          : Infinity,
      });
      return Promise.resolve();
    },
    find(id: string) {
      return Promise.resolve(live(`${model}:${id}`)?.payload);
    },
    findByUid(uid: string) {
      for (const [key, row] of rows) {
        if (key.startsWith(`${model}:`) && row.payload.uid === uid) {
          return Promise.resolve(live(key)?.payload);
        }
      }
      return Promise.resolve(undefined);
    },
    findByUserCode() {
      return Promise.resolve(undefined);
    },
    consume(id: string) {
      const row = live(`${model}:${id}`);
      if (row) row.payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    },
    destroy(id: string) {
      rows.delete(`${model}:${id}`);
      return Promise.resolve();
    },
    revokeByGrantId(grantId: string) {
      for (const [key, row] of rows) {
        if (row.payload.grantId === grantId) rows.delete(key);
      }
      return Promise.resolve();
    },
  });
}

/**
 * Starts oidc-provider on `http://127.0.0.1:PORT` (a free port) with one
 * public native client.
 *
 * Refresh tokens are issued to the client whenever it may use the
 * refresh_token grant (no `offline_access`/`prompt=consent` needed, though
 * both work), and do not end with the browser session.
 *
 * @param options Client id, redirect URIs, rotation, revocation.
 * @returns The running provider; close it (or `await using` it).
 */
export async function startOidcProvider(
  options: OidcProviderOptions = {},
): Promise<OidcProviderHandle> {
  const clientId = options.clientId ?? "test-native-app";
  const redirectUris = options.redirectUris ?? ["http://127.0.0.1/callback"];
  const rotate = options.rotateRefreshTokens ?? true;
  const { Provider, errors } = await loadProvider();
  const revocationAnswer = options.revocationAnswer ?? "revoke";
  const key = await loadSigningKey();

  // The issuer names the port, so listen first; the provider's handler is
  // attached once it is built (nobody knows the port before that).
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const stats: OidcProviderStats = {
    tokenRequests: 0,
    refreshes: 0,
    revocations: 0,
    serverErrors: [],
  };
  const accessTokenTtl = options.accessTokenTtl ?? 3600;
  const config = {
    adapter: memoryAdapter(),
    jwks: { keys: [key] },
    clients: [{
      client_id: clientId,
      // A web client's redirect URIs match exactly; a native client's
      // loopback ones on any port.
      application_type: options.exactRedirectUris ? "web" : "native",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: redirectUris,
    }],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      revocation: {
        enabled: options.revocation ?? true,
        // Public clients may revoke their own tokens (the default policy
        // says the same, with a notice).
        allowedPolicy: (
          _ctx: unknown,
          client: { clientId: string },
          token: { clientId: string },
        ) => {
          if (revocationAnswer === "invalid_client") {
            throw new errors.InvalidClientAuth();
          }
          return Promise.resolve(token.clientId === client.clientId);
        },
      },
    },
    ...(options.revocationAuthMethods
      ? {
        discovery: {
          revocation_endpoint_auth_methods_supported:
            options.revocationAuthMethods,
        },
      }
      : {}),
    ...(options.requireNonce
      ? {
        extraParams: {
          // Runs for every authorization request, nonce or not.
          nonce: (
            ctx: { oidc: { params: Record<string, unknown> } },
            value: unknown,
          ) => {
            const scope = String(ctx.oidc.params.scope ?? "").split(" ");
            if (scope.includes("openid") && !value) {
              throw new errors.InvalidRequest("nonce required");
            }
          },
        },
      }
      : {}),
    rotateRefreshToken: () => rotate,
    issueRefreshToken: (
      _ctx: unknown,
      client: { grantTypeAllowed(type: string): boolean },
    ) => Promise.resolve(client.grantTypeAllowed("refresh_token")),
    expiresWithSession: () => Promise.resolve(false),
    findAccount: (_ctx: unknown, sub: string) =>
      Promise.resolve({
        accountId: sub,
        claims: () => Promise.resolve({ sub }),
      }),
    renderError: (
      ctx: { type: string; body: string },
      out: Record<string, string>,
    ) => {
      ctx.type = "html";
      ctx.body = `<!DOCTYPE html><title>error</title><pre>${
        escapeHtml(JSON.stringify(out))
      }</pre>`;
      return Promise.resolve();
    },
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
  };

  let provider: Provider;
  try {
    provider = await withoutExpectedNotices(() => new Provider(issuer, config));
  } catch (err) {
    await closeServer(server);
    throw err;
  }
  // Counted once the provider has handled the request (its parameters are
  // parsed by then) and before the answer is sent.
  provider.use(async (ctx, next) => {
    if (
      ctx.method === "POST" && ctx.path === "/token/revocation" &&
      (revocationAnswer === "401" || revocationAnswer === "503")
    ) {
      stats.revocations++;
      ctx.status = Number(revocationAnswer);
      ctx.body = "";
      return;
    }
    try {
      await next();
      if (ctx.oidc?.route === "discovery" && options.editMetadata) {
        options.editMetadata(ctx.body as Record<string, unknown>);
      }
    } finally {
      const route = ctx.method === "POST" ? ctx.oidc?.route : undefined;
      if (route === "token") {
        stats.tokenRequests++;
        if (ctx.oidc?.params?.grant_type === "refresh_token") stats.refreshes++;
      } else if (route === "revocation") {
        stats.revocations++;
      }
    }
  });
  provider.on("server_error", (_ctx, err) => {
    stats.serverErrors.push(err);
  });
  server.on("request", provider.callback());

  let closing: Promise<void> | undefined;
  const close = () => closing ??= closeServer(server);
  return {
    issuer,
    clientId,
    redirectUris,
    stats,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
