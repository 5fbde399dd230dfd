/**
 * Worker thread of DecryptionWorkers: decrypts the values of one pull per message, with the same
 * function as the main thread (envelope.ts). Holds no state between messages.
 */
import { parentPort } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';

// Loaded as TypeScript from the sources (tests, Node strips the types) or as JavaScript from dist/.
const { decryptValue, DecryptionError } = (await import(
  new URL(`./envelope.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href
)) as typeof import('./envelope.js');

export interface DecryptJob {
  id: number;
  projectId: string;
  keys: string[];
  /** Index into `deks` of each value's key. */
  dekOf: Uint8Array;
  deks: KeyObject[];
  /** The stored values, back to back; value i ends at ends[i]. */
  blob: Uint8Array;
  ends: Uint32Array;
}

export type DecryptResult = { id: number; values: string[] } | { id: number; failedKey: string };

parentPort!.on('message', (job: DecryptJob) => {
  const blob = Buffer.from(job.blob.buffer, job.blob.byteOffset, job.blob.byteLength);
  const values: string[] = new Array(job.keys.length);
  let start = 0;
  for (let i = 0; i < job.keys.length; i++) {
    const end = job.ends[i];
    try {
      values[i] = decryptValue(job.deks[job.dekOf[i]], job.projectId, job.keys[i], blob.subarray(start, end));
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      parentPort!.postMessage({ id: job.id, failedKey: job.keys[i] } satisfies DecryptResult);
      return;
    }
    start = end;
  }
  parentPort!.postMessage({ id: job.id, values } satisfies DecryptResult);
});
