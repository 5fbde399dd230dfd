import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake AWS KMS for the `aws` KeyProvider tests: an HTTP server on 127.0.0.1 speaking the KMS JSON 1.1
 * protocol (POST /, `X-Amz-Target: TrentService.<Operation>`, `application/x-amz-json-1.1`, base64
 * blobs, errors as `{"__type": …, "message": …}`), so the real `@aws-sdk/client-kms` client (its SigV4
 * signing, serialisation, retries) is what the app talks to. It checks that each request is SigV4-signed
 * (Authorization and X-Amz-Date present, service `kms`), but not the signature itself. Encrypt and
 * Decrypt behave like KMS for one symmetric key: the ciphertext is bound to the encryption context, and
 * names its key. Every other operation answers UnknownOperationException.
 */

export type AwsKmsOperation = 'Encrypt' | 'Decrypt';

export interface AwsKmsCall {
  method: AwsKmsOperation;
  keyId?: string;
  context: Record<string, string>;
  /** Encrypt: the ciphertext it returned; Decrypt: the one it was given. */
  ciphertext?: Buffer;
  /** HTTP status answered; 200 = OK. */
  status: number;
  /** The error `__type`, when it failed. */
  error?: string;
  /** The access key id of the SigV4 credential scope. */
  accessKeyId?: string;
}

class KmsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 0x01;
const ACCOUNT = '111122223333';

export class FakeAwsKms {
  readonly calls: AwsKmsCall[] = [];
  /** The key's id (a UUID) and ARN; the alias `alias/secr` and its ARN name it too. */
  readonly keyUuid = randomUUID();
  private readonly key = randomBytes(32);
  private failure?: { status: number; type: string };
  private holds: { method: AwsKmsOperation; after: number; seen: number; arrived: () => void; release?: Promise<void> }[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly region: string,
  ) {}

  static async start(region = 'eu-west-1'): Promise<FakeAwsKms> {
    const server = http.createServer();
    const kms = new FakeAwsKms(server, region);
    server.on('request', (req, res) => void kms.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return kms;
  }

  get keyArn(): string {
    return `arn:aws:kms:${this.region}:${ACCOUNT}:key/${this.keyUuid}`;
  }

  get aliasArn(): string {
    return `arn:aws:kms:${this.region}:${ACCOUNT}:alias/secr`;
  }

  /** KMS_AWS_ENDPOINT. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(method: AwsKmsOperation): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  last(method: AwsKmsOperation): AwsKmsCall | undefined {
    return this.calls.filter((c) => c.method === method).at(-1);
  }

  /** Answers every Encrypt and Decrypt with this error (a retryable 503 by default) until `recover()`. */
  failWith(status = 503, type = 'KMSInternalException'): void {
    this.failure = { status, type };
  }

  recover(): void {
    this.failure = undefined;
  }

  /**
   * Leaves the `after`+1-th following `method` call (and all later ones) unanswered; resolves once the
   * first of them arrived. The connections stay open until `stop()`.
   */
  hold(method: AwsKmsOperation, after = 0): Promise<void> {
    return new Promise((arrived) => this.holds.push({ method, after, seen: 0, arrived }));
  }

  /** Ends every `hold`: calls from now on are answered (the held ones stay unanswered). */
  releaseHolds(): void {
    this.holds = [];
  }

  /** Closes the port and every open connection: clients then see an unreachable KMS. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const method = target.replace(/^TrentService\./, '');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(body));
    };
    const auth = String(req.headers.authorization ?? '');
    const scope = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([a-z0-9-]+)\/kms\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(auth);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return send(400, { __type: 'SerializationException', message: 'Malformed JSON' });
    }
    if (method !== 'Encrypt' && method !== 'Decrypt') {
      return send(400, { __type: 'UnknownOperationException', message: `Operation ${target} is not supported by this fake` });
    }
    const call: AwsKmsCall = {
      method,
      keyId: body.KeyId as string | undefined,
      context: (body.EncryptionContext as Record<string, string>) ?? {},
      status: 200,
      accessKeyId: scope?.[1],
    };
    this.calls.push(call);
    const hold = this.holds.find((h) => h.method === method && h.seen++ >= h.after);
    if (hold) {
      hold.arrived();
      return; // never answered
    }
    try {
      if (!scope || !req.headers['x-amz-date'] || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        throw new KmsError(400, 'MissingAuthenticationTokenException', 'Request is missing Authentication Token');
      }
      if (scope[2] !== this.region) throw new KmsError(400, 'InvalidSignatureException', `Credential should be scoped to a valid region.`);
      if (this.failure) throw new KmsError(this.failure.status, this.failure.type, 'The service is unavailable.');
      send(200, method === 'Encrypt' ? this.encrypt(body, call) : this.decrypt(body, call));
    } catch (error) {
      if (!(error instanceof KmsError)) throw error;
      call.status = error.status;
      call.error = error.type;
      send(error.status, { __type: error.type, message: error.message });
    }
  }

  private resolveKey(keyId: unknown): void {
    if (typeof keyId !== 'string' || !keyId)
      throw new KmsError(400, 'ValidationException', "1 validation error detected: Value null at 'keyId' failed to satisfy constraint");
    const names = [this.keyUuid, this.keyArn, 'alias/secr', this.aliasArn];
    if (!names.includes(keyId)) throw new KmsError(400, 'NotFoundException', `Key '${keyId}' does not exist`);
  }

  private encrypt(body: Record<string, unknown>, call: AwsKmsCall) {
    this.resolveKey(body.KeyId);
    const plaintext = Buffer.from(String(body.Plaintext ?? ''), 'base64');
    if (!plaintext.length || plaintext.length > 4096) throw new KmsError(400, 'ValidationException', 'Plaintext must be 1 to 4096 bytes');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(contextAad(call.context));
    const ciphertext = Buffer.concat([
      Buffer.of(FORMAT),
      Buffer.from(this.keyUuid, 'ascii'),
      iv,
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    call.ciphertext = ciphertext;
    return { CiphertextBlob: ciphertext.toString('base64'), KeyId: this.keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  }

  private decrypt(body: Record<string, unknown>, call: AwsKmsCall) {
    const blob = Buffer.from(String(body.CiphertextBlob ?? ''), 'base64');
    call.ciphertext = blob;
    if (body.KeyId !== undefined) this.resolveKey(body.KeyId);
    const head = 1 + 36;
    if (blob.length < head + IV_BYTES + TAG_BYTES || blob[0] !== FORMAT) throw new KmsError(400, 'InvalidCiphertextException', '');
    if (blob.subarray(1, head).toString('ascii') !== this.keyUuid) {
      throw new KmsError(400, 'IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, blob.subarray(head, head + IV_BYTES));
      decipher.setAAD(contextAad(call.context));
      decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
      plaintext = Buffer.concat([decipher.update(blob.subarray(head + IV_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
    } catch {
      // What KMS says for another encryption context or an altered ciphertext: nothing more.
      throw new KmsError(400, 'InvalidCiphertextException', '');
    }
    return { Plaintext: plaintext.toString('base64'), KeyId: this.keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  }
}

/** The encryption context as KMS binds it: order-independent. */
function contextAad(context: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))), 'utf8');
}
