import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { CONFIG, type AppConfig } from '../../config/config.js';
import type { DecryptJob, DecryptResult } from './decrypt-worker.js';
import { DecryptionError } from './envelope.js';

export interface EncryptedValue {
  key: string;
  ciphertext: Buffer;
  /** The DEK of this value. */
  dek: KeyObject;
}

interface Pending {
  resolve: (values: string[]) => void;
  reject: (error: unknown) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * Worker threads that decrypt the values of a pull (DESIGN.md §4: AES-256-GCM, one cipher per value).
 * Fifty values are about a third of the CPU a pull costs; on worker threads that work runs beside the
 * event loop, on the cores it leaves idle, instead of delaying every other request. The threads get
 * each job's DEKs with it and keep nothing. Started on first use; `DECRYPT_WORKERS=0` keeps all
 * decryption on the main thread.
 */
@Injectable()
export class DecryptionWorkers implements OnApplicationShutdown {
  private readonly logger = new Logger(DecryptionWorkers.name);
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private closed = false;

  constructor(@Inject(CONFIG) private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.decryptWorkers > 0 && !this.closed;
  }

  /** The plaintexts, in order; rejects with DecryptionError naming the first value that fails. */
  decrypt(projectId: string, values: readonly EncryptedValue[]): Promise<string[]> {
    const deks: KeyObject[] = [];
    const dekOf = new Uint8Array(values.length);
    const ends = new Uint32Array(values.length);
    let length = 0;
    values.forEach((v, i) => {
      let index = deks.indexOf(v.dek);
      if (index < 0) index = deks.push(v.dek) - 1;
      dekOf[i] = index;
      ends[i] = length += v.ciphertext.length;
    });
    // One transferable buffer for all the ciphertexts, not the pool slabs they were sliced from.
    const blob = new Uint8Array(length);
    values.forEach((v, i) => blob.set(v.ciphertext, i ? ends[i - 1] : 0));

    const id = this.nextId++;
    const job: DecryptJob = { id, projectId, keys: values.map((v) => v.key), dekOf, deks, blob, ends };
    const thread = this.leastBusy();
    return new Promise<string[]>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      try {
        thread.worker.postMessage(job, [blob.buffer, dekOf.buffer, ends.buffer]);
      } catch (error) {
        thread.pending.delete(id);
        reject(error);
      }
    });
  }

  /** After the HTTP server has closed, so the pulls it was still answering have had their values. */
  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }

  private leastBusy(): Thread {
    if (this.threads.length < this.config.decryptWorkers) return this.start();
    return this.threads.reduce((best, t) => (t.pending.size < best.pending.size ? t : best));
  }

  private start(): Thread {
    const source = import.meta.url.endsWith('.ts') ? './decrypt-worker.ts' : './decrypt-worker.js';
    const worker = new Worker(new URL(source, import.meta.url));
    worker.unref();
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (result: DecryptResult) => {
      const pending = thread.pending.get(result.id);
      thread.pending.delete(result.id);
      if ('values' in result) pending?.resolve(result.values);
      else pending?.reject(new DecryptionError(result.failedKey));
    });
    // A thread that dies fails its jobs; the next job starts a new one.
    const fail = (error: unknown) => {
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads.splice(index, 1);
      for (const p of thread.pending.values()) p.reject(error);
      thread.pending.clear();
    };
    worker.on('error', (error) => {
      this.logger.error({ err: error }, 'A decryption worker failed');
      fail(error);
    });
    // An answer that cannot be read cannot be matched to its job: end the thread, failing its jobs.
    worker.on('messageerror', (error) => {
      this.logger.error({ err: error }, 'A decryption worker sent a message that could not be read');
      fail(error);
      void worker.terminate();
    });
    worker.on('exit', (code) => fail(new Error(`The decryption worker exited (code ${code})`)));
    this.threads.push(thread);
    return thread;
  }
}
