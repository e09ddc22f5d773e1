/**
 * Test helper: a private certificate authority and a server certificate for
 * 127.0.0.1 signed by it, made by Debian's `openssl` in a temp folder, as an
 * on-premises Looker's company CA would be.
 *
 * @module
 */

/** A private CA and a certificate it signed. `await using` removes the files. */
export interface PrivateCa extends AsyncDisposable {
  /** The CA certificate's PEM file: what `--ca-file` takes. */
  readonly caFile: string;
  /** The server certificate (PEM), for `127.0.0.1` and `localhost`. */
  readonly cert: string;
  /** The server's private key (PEM, PKCS#8). */
  readonly key: string;
  /** The folder holding the files. */
  readonly dir: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** Makes a CA (P-256, valid 2 days) and a server certificate signed by it. */
export async function makePrivateCa(): Promise<PrivateCa> {
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-tls-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=looker-oauth test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl(dir, [
    "req",
    ...ec,
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    [
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
    ].join("\n") + "\n",
  );
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ]);
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    cert: await Deno.readTextFile(`${dir}/server.pem`),
    key: await Deno.readTextFile(`${dir}/server.key`),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * A self-signed certificate for 127.0.0.1 as `openssl req -x509` makes it
 * by default: a CA certificate (CA:TRUE) that the server uses as its own.
 */
export async function makeSelfSigned(): Promise<PrivateCa> {
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-tls-" });
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "2",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]);
  return {
    dir,
    caFile: `${dir}/self.pem`,
    cert: await Deno.readTextFile(`${dir}/self.pem`),
    key: await Deno.readTextFile(`${dir}/self.key`),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
