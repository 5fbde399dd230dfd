import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/**
 * A fake Cloud KMS for the `gcp` KeyProvider tests (DESIGN.md §4): an in-process gRPC server that
 * loads the real `google.cloud.kms.v1.KeyManagementService` from the `service.proto` shipped with
 * `@google-cloud/kms`, so the real client library (google-gax, grpc-js, protobuf encoding) is what the
 * app talks to. Encrypt and Decrypt behave like the real service for one symmetric CryptoKey; every
 * other method answers UNIMPLEMENTED (grpc-js's default for a method without a handler).
 */

const PROTOS = fileURLToPath(new URL('../../node_modules/@google-cloud/kms/build/protos', import.meta.url));
/** google/api/*, google/longrunning/*, google/protobuf/*: the common protos service.proto imports. */
const COMMON_PROTOS = fileURLToPath(new URL('../../node_modules/google-gax/build/protos', import.meta.url));

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Cloud KMS limits (https://cloud.google.com/kms/quotas#encrypt_and_decrypt_request_limits). */
const MAX_PLAINTEXT = 64 * 1024;
const MAX_CIPHERTEXT = 10 * 64 * 1024;
/** The version byte that starts every ciphertext of this fake, like real KMS ciphertexts name their key version. */
const FORMAT = 0x01;

export interface KmsCall {
  method: 'Encrypt' | 'Decrypt';
  /** The `name` the client sent. */
  name: string;
  aad: Buffer;
  /** Encrypt: the ciphertext it returned; Decrypt: the ciphertext it was given. */
  ciphertext?: Buffer;
  /** The gRPC status the fake answered with; 0 = OK. */
  code: grpc.status;
}

interface Int64Value {
  value: string;
}

interface EncryptRequest {
  name: string;
  plaintext: Buffer;
  additional_authenticated_data: Buffer;
  plaintext_crc32c: Int64Value | null;
  additional_authenticated_data_crc32c: Int64Value | null;
}

interface DecryptRequest {
  name: string;
  ciphertext: Buffer;
  additional_authenticated_data: Buffer;
  ciphertext_crc32c: Int64Value | null;
  additional_authenticated_data_crc32c: Int64Value | null;
}

class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export class FakeCloudKms {
  /** Every Encrypt and Decrypt received, in order, including the ones that failed. */
  readonly calls: KmsCall[] = [];
  private failure?: { code: grpc.status; message: string };
  private stopped = false;

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    /** The one CryptoKey this KMS holds: projects/…/locations/…/keyRings/…/cryptoKeys/…. */
    readonly keyName: string,
    private readonly key: Buffer,
  ) {}

  /** Starts the server on 127.0.0.1 with a random port. */
  static async start(keyName: string): Promise<FakeCloudKms> {
    const definition = await protoLoader.load('google/cloud/kms/v1/service.proto', {
      includeDirs: [PROTOS, COMMON_PROTOS],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const service = definition['google.cloud.kms.v1.KeyManagementService'] as grpc.ServiceDefinition;
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const kms = new FakeCloudKms(server, port, keyName, randomBytes(32));
    server.addService(service, {
      Encrypt: kms.handler('Encrypt', (request: EncryptRequest, record) => kms.encrypt(request, record)),
      Decrypt: kms.handler('Decrypt', (request: DecryptRequest, record) => kms.decrypt(request, record)),
    });
    return kms;
  }

  /** host:port, as KMS_GCP_ENDPOINT takes it. */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  count(method: KmsCall['method']): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  last(method: KmsCall['method']): KmsCall | undefined {
    return this.calls.filter((c) => c.method === method).at(-1);
  }

  /** Answers every following Encrypt and Decrypt with this status (UNAVAILABLE by default) until `recover()`. */
  failWith(code: grpc.status = grpc.status.UNAVAILABLE, message = 'The service is currently unavailable.'): void {
    this.failure = { code, message };
  }

  recover(): void {
    this.failure = undefined;
  }

  /** Closes the port and every open connection: clients then see an unreachable KMS. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.server.forceShutdown();
  }

  private handler<Req extends { name: string; additional_authenticated_data: Buffer }, Res>(
    method: KmsCall['method'],
    run: (request: Req, record: KmsCall) => Res,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const request = call.request;
      const record: KmsCall = { method, name: request.name, aad: Buffer.from(request.additional_authenticated_data), code: grpc.status.OK };
      this.calls.push(record);
      try {
        if (this.failure) throw new RpcError(this.failure.code, this.failure.message);
        callback(null, run(request, record));
      } catch (error) {
        if (!(error instanceof RpcError)) throw error;
        record.code = error.code;
        callback({ code: error.code, details: error.message });
      }
    };
  }

  private encrypt(request: EncryptRequest, record: KmsCall) {
    this.checkKey(request.name, true);
    if (!request.plaintext.length) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Plaintext must not be empty.');
    if (request.plaintext.length > MAX_PLAINTEXT) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Plaintext exceeds the maximum size.');
    const verifiedPlaintext = checkCrc32c(request.plaintext, request.plaintext_crc32c, 'plaintext');
    const verifiedAad = checkCrc32c(request.additional_authenticated_data, request.additional_authenticated_data_crc32c, 'additional_authenticated_data');

    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(request.additional_authenticated_data);
    const ciphertext = Buffer.concat([Buffer.of(FORMAT), iv, cipher.update(request.plaintext), cipher.final(), cipher.getAuthTag()]);
    record.ciphertext = ciphertext;
    return {
      // The real service answers with the CryptoKeyVersion it used (the primary).
      name: `${this.keyName}/cryptoKeyVersions/1`,
      ciphertext,
      ciphertext_crc32c: { value: String(crc32c(ciphertext)) },
      verified_plaintext_crc32c: verifiedPlaintext,
      verified_additional_authenticated_data_crc32c: verifiedAad,
      protection_level: 'SOFTWARE',
    };
  }

  private decrypt(request: DecryptRequest, record: KmsCall) {
    record.ciphertext = Buffer.from(request.ciphertext);
    this.checkKey(request.name, false);
    if (request.ciphertext.length > MAX_CIPHERTEXT) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Ciphertext exceeds the maximum size.');
    checkCrc32c(request.ciphertext, request.ciphertext_crc32c, 'ciphertext');
    checkCrc32c(request.additional_authenticated_data, request.additional_authenticated_data_crc32c, 'additional_authenticated_data');

    const { ciphertext } = request;
    let plaintext: Buffer;
    try {
      if (ciphertext.length < 1 + IV_BYTES + TAG_BYTES || ciphertext[0] !== FORMAT) throw new Error('malformed');
      const decipher = createDecipheriv('aes-256-gcm', this.key, ciphertext.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(request.additional_authenticated_data);
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
      plaintext = Buffer.concat([decipher.update(ciphertext.subarray(1 + IV_BYTES, ciphertext.length - TAG_BYTES)), decipher.final()]);
    } catch {
      // What Cloud KMS says for a wrong AAD, a tampered ciphertext or one made by another key.
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Decryption failed: the ciphertext is invalid.');
    }
    return {
      plaintext,
      plaintext_crc32c: { value: String(crc32c(plaintext)) },
      used_primary: true,
      protection_level: 'SOFTWARE',
    };
  }

  /** Encrypt takes the CryptoKey (its primary version) or a version of it; Decrypt only the CryptoKey. */
  private checkKey(name: string, allowVersion: boolean): void {
    if (!name) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The request must name a CryptoKey.');
    if (name === this.keyName) return;
    if (allowVersion && name === `${this.keyName}/cryptoKeyVersions/1`) return;
    throw new RpcError(grpc.status.NOT_FOUND, `${name} not found.`);
  }
}

/** When the client sent a checksum, it must match: then the response says it was verified. */
function checkCrc32c(data: Buffer, checksum: Int64Value | null, field: string): boolean {
  if (!checksum) return false;
  if (BigInt(checksum.value) !== BigInt(crc32c(data))) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `The checksum in field ${field}_crc32c did not match the data in field ${field}.`);
  }
  return true;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), the checksum Cloud KMS uses for data integrity. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
