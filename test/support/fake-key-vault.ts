import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

/**
 * A fake Azure Key Vault for the `azure` KeyProvider tests: an HTTPS server on 127.0.0.1 (a throw-away
 * certificate made by `openssl req` when it starts) speaking the Key Vault keys REST API with its
 * challenge-based bearer auth (a request without a token gets 401 and `WWW-Authenticate: Bearer
 * authorization=…, resource=…`), and an App Service managed-identity token endpoint (IDENTITY_ENDPOINT /
 * IDENTITY_HEADER) that issues the tokens. So the real `@azure/identity` DefaultAzureCredential and the
 * real `@azure/keyvault-keys` CryptographyClient (challenge handling, retries) are what the app talks to.
 * One RSA key with versions: get key, wrapkey and unwrapkey (RSA-OAEP-256); other operations answer 405.
 */

export type VaultOperation = 'get' | 'wrapkey' | 'unwrapkey' | 'token';

export interface VaultCall {
  method: VaultOperation;
  keyName?: string;
  version?: string;
  /** wrapkey: the ciphertext it returned; unwrapkey: the one it was given. */
  value?: Buffer;
  status: number;
  /** Whether the request carried a token this vault issued. */
  authorized: boolean;
}

interface KeyVersion {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A self-signed certificate for 127.0.0.1, valid one day, made in a temp dir that is removed at once. */
export function makeTestCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secr-test-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class FakeKeyVault {
  readonly calls: VaultCall[] = [];
  /** The secret of the managed-identity endpoint (IDENTITY_HEADER). */
  readonly identityHeader = randomBytes(16).toString('hex');
  readonly tenantId = randomUUID();
  private readonly versions: KeyVersion[] = [];
  private readonly tokens = new Set<string>();
  private failure?: number;
  private holds: { method: VaultOperation; after: number; seen: number; arrived: () => void }[] = [];
  /** The certificate's path (public part only), for NODE_EXTRA_CA_CERTS of child processes. */
  readonly caFile: string;
  private readonly caDir: string;

  private constructor(
    private readonly server: https.Server,
    readonly keyName: string,
    readonly ca: string,
  ) {
    this.caDir = mkdtempSync(path.join(os.tmpdir(), 'secr-test-ca-'));
    this.caFile = path.join(this.caDir, 'ca.pem');
    writeFileSync(this.caFile, ca);
    this.rotate();
  }

  /**
   * Starts the vault and adds its certificate to this process's trusted CAs (tls.setDefaultCACertificates),
   * as an operator would add a private CA to the trust store.
   */
  static async start(keyName = 'secr-master'): Promise<FakeKeyVault> {
    const { cert, key } = makeTestCertificate();
    const server = https.createServer({ cert, key });
    const vault = new FakeKeyVault(server, keyName, cert);
    server.on('request', (req, res) => void vault.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const trusted = tls.getCACertificates('default');
    if (!trusted.includes(cert)) tls.setDefaultCACertificates([...trusted, cert]);
    return vault;
  }

  get vaultUrl(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** KMS_AZURE_KEY_ID without a version (the current one is used). */
  get keyId(): string {
    return `${this.vaultUrl}/keys/${this.keyName}`;
  }

  get currentVersion(): string {
    return this.versions.at(-1)!.id;
  }

  /** The environment of DefaultAzureCredential's managed-identity (App Service) flow against this fake. */
  get credentialEnv(): Record<string, string> {
    return { IDENTITY_ENDPOINT: `${this.vaultUrl}/msi/token`, IDENTITY_HEADER: this.identityHeader, AZURE_TOKEN_CREDENTIALS: 'ManagedIdentityCredential' };
  }

  /** A new key version becomes current; the old ones still unwrap. */
  rotate(): string {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const id = randomBytes(16).toString('hex');
    this.versions.push({ id, privateKey, publicKey });
    return id;
  }

  count(method: VaultOperation): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  last(method: VaultOperation): VaultCall | undefined {
    return this.calls.filter((c) => c.method === method).at(-1);
  }

  /** Answers every key operation with this status (503 by default) until `recover()`. */
  failWith(status = 503): void {
    this.failure = status;
  }

  recover(): void {
    this.failure = undefined;
  }

  /** Leaves the `after`+1-th following authorized `method` call (and later ones) unanswered; resolves when it arrives. */
  hold(method: VaultOperation, after = 0): Promise<void> {
    return new Promise((arrived) => this.holds.push({ method, after, seen: 0, arrived }));
  }

  /** Ends every `hold`: calls from now on are answered (the held ones stay unanswered). */
  releaseHolds(): void {
    this.holds = [];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.caDir, { recursive: true, force: true });
  }

  private async handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.vaultUrl);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID(), ...headers });
      res.end(JSON.stringify(body));
    };

    if (url.pathname === '/msi/token') return this.token(req, url, send);

    const match = /^\/keys\/([A-Za-z0-9-]+)(?:\/([A-Za-z0-9]*))?(?:\/(wrapkey|unwrapkey))?\/?$/.exec(url.pathname);
    const operation: VaultOperation | undefined = match ? ((match[3] as VaultOperation | undefined) ?? (req.method === 'GET' ? 'get' : undefined)) : undefined;
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const call: VaultCall = {
      method: operation ?? 'get',
      keyName: match?.[1],
      version: match?.[2] || undefined,
      status: 200,
      authorized: !!token && this.tokens.has(token),
    };
    if (operation) this.calls.push(call);
    try {
      if (!call.authorized) {
        // The first request of a client carries no token (and no body): the challenge says where to get one.
        call.status = 401;
        return send(
          401,
          { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
          {
            'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${this.tenantId}", resource="https://vault.azure.net"`,
          },
        );
      }
      if (!url.searchParams.get('api-version')) throw new VaultError(400, 'BadParameter', 'The api-version query parameter is required');
      if (!operation || (operation === 'get' ? req.method !== 'GET' : req.method !== 'POST'))
        throw new VaultError(405, 'MethodNotAllowed', 'Not supported by this fake');
      const hold = this.holds.find((h) => h.method === operation && h.seen++ >= h.after);
      if (hold) {
        hold.arrived();
        return; // never answered
      }
      if (this.failure) throw new VaultError(this.failure, 'ServiceUnavailable', 'The service is unavailable.');
      if (call.keyName !== this.keyName) throw new VaultError(404, 'KeyNotFound', `A key with (name/id) ${call.keyName} was not found in this key vault.`);
      const version = call.version ? this.versions.find((v) => v.id === call.version) : this.versions.at(-1);
      if (!version) throw new VaultError(404, 'KeyNotFound', `A key with (name/id) ${call.keyName}/${call.version} was not found in this key vault.`);
      const kid = `${this.vaultUrl}/keys/${this.keyName}/${version.id}`;
      if (operation === 'get') {
        const jwk = version.publicKey.export({ format: 'jwk' });
        return send(200, {
          key: { kid, kty: 'RSA', key_ops: ['wrapKey', 'unwrapKey'], n: jwk.n, e: jwk.e },
          attributes: { enabled: true, created: 1_700_000_000, updated: 1_700_000_000, recoveryLevel: 'Recoverable+Purgeable', exportable: false },
        });
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { alg?: string; value?: string };
      if (body.alg !== 'RSA-OAEP-256') throw new VaultError(400, 'BadParameter', `Algorithm ${body.alg} is not supported by this fake`);
      const input = Buffer.from(body.value ?? '', 'base64url');
      const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
      let output: Buffer;
      if (operation === 'wrapkey') {
        if (!input.length || input.length > 190) throw new VaultError(400, 'BadParameter', 'The value is too long for the key');
        output = publicEncrypt({ key: version.publicKey, ...oaep }, input);
        call.value = output;
      } else {
        call.value = input;
        try {
          output = privateDecrypt({ key: version.privateKey, ...oaep }, input);
        } catch {
          throw new VaultError(400, 'BadParameter', 'The parameter is incorrect.');
        }
      }
      send(200, { kid, value: output.toString('base64url') });
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      call.status = error.status;
      send(error.status, { error: { code: error.code, message: error.message } });
    }
  }

  /** App Service managed identity: GET ?resource=…&api-version=2019-08-01 with the X-IDENTITY-HEADER secret. */
  private token(req: import('node:http').IncomingMessage, url: URL, send: (status: number, body: unknown) => void): void {
    const call: VaultCall = { method: 'token', status: 200, authorized: req.headers['x-identity-header'] === this.identityHeader };
    this.calls.push(call);
    if (!call.authorized) {
      call.status = 400;
      return send(400, { error: 'invalid_request', error_description: 'The X-IDENTITY-HEADER is missing or wrong' });
    }
    const resource = url.searchParams.get('resource');
    if (resource !== 'https://vault.azure.net') {
      call.status = 400;
      return send(400, { error: 'invalid_resource', error_description: `Unknown resource ${resource}` });
    }
    const accessToken = randomBytes(24).toString('base64url');
    this.tokens.add(accessToken);
    send(200, { access_token: accessToken, expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource, token_type: 'Bearer', client_id: randomUUID() });
  }
}
