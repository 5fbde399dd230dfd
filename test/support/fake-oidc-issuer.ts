import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

/**
 * A CI provider's OIDC issuer for tests (STYLE.md 13: fake at the protocol boundary): a real HTTP
 * server on 127.0.0.1 serving a discovery document and a JWKS, signing tokens with `jose`, rotating
 * keys on demand. It also plays GitHub Actions' token request endpoint
 * (`GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
 * answering `{ "value": "<jwt>" }`), so the real CLI can run as in a workflow.
 */
interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface SignOptions {
  /** Claims to set or override; `undefined` removes a default claim. */
  claims?: Record<string, unknown>;
  /** Sign with this key instead of the current one (e.g. one not published). */
  key?: SigningKey;
  /** Override the protected header's kid. */
  kid?: string;
}

export const GITHUB_REQUEST_TOKEN = 'fake-actions-request-token';

export class FakeOidcIssuer {
  /** Published keys, newest last; the newest signs. */
  private keys: SigningKey[] = [];
  /** How many times each document was served. */
  readonly served = { discovery: 0, jwks: 0, githubToken: 0 };
  /** Claims the fake GitHub endpoint puts in the tokens it hands out. */
  githubClaims: Record<string, unknown> = {};

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeOidcIssuer> {
    const server = http.createServer();
    const issuer = new FakeOidcIssuer(server);
    server.on('request', (req, res) => void issuer.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await issuer.rotate();
    return issuer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The URL GitHub Actions puts in ACTIONS_ID_TOKEN_REQUEST_URL (it already has a query). */
  get githubRequestUrl(): string {
    return `${this.url}/github/token?api-version=2.0`;
  }

  /** Publishes a new key that signs from now on; the old ones stay published unless `dropOld`. */
  async rotate(options: { dropOld?: boolean; alg?: 'RS256' | 'ES256' } = {}): Promise<SigningKey> {
    const key = await FakeOidcIssuer.newKey(options.alg ?? 'RS256');
    this.keys = options.dropOld ? [key] : [...this.keys, key];
    return key;
  }

  /** A key that is never published (a forger's). */
  static async newKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `k-${Math.random().toString(36).slice(2, 10)}`;
    return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }

  get currentKey(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  /** A token as a CI job gets it: iss, aud, iat, nbf, exp (5 min) and GitHub-like claims, overridable. */
  async sign(audience: string, options: SignOptions = {}): Promise<string> {
    const key = options.key ?? this.currentKey;
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.url,
      aud: audience,
      iat: now,
      nbf: now - 5,
      exp: now + 300,
      sub: 'repo:acme/api:ref:refs/heads/main',
      repository: 'acme/api',
      repository_owner: 'acme',
      ref: 'refs/heads/main',
      workflow: 'deploy',
      run_id: '4242',
      actor: 'octocat',
      ...options.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/openid-configuration') {
      this.served.discovery++;
      return json(200, { issuer: this.url, jwks_uri: `${this.url}/keys`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    }
    if (url.pathname === '/keys') {
      this.served.jwks++;
      return json(200, { keys: this.keys.map((k) => k.publicJwk) });
    }
    if (url.pathname === '/github/token') {
      this.served.githubToken++;
      if (req.headers.authorization !== `Bearer ${GITHUB_REQUEST_TOKEN}`) return json(401, { message: 'Bad credentials' });
      const audience = url.searchParams.get('audience');
      if (!audience) return json(400, { message: 'audience required in this fake' });
      return json(200, { count: 1, value: await this.sign(audience, { claims: this.githubClaims }) });
    }
    json(404, { message: 'not found' });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
