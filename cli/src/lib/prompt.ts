import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { usageError } from './errors.js';

/** Prompts need a terminal on stdin; they are written to stderr so that stdout stays clean. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY);
}

function requireTerminal(what: string): void {
  if (!isInteractive()) throw usageError(`${what}: no terminal to ask on (stdin is not a TTY); pass it as a flag`);
}

export async function ask(question: string, what = question): Promise<string> {
  requireTerminal(what);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** Like `ask`, but the answer is not echoed (passwords, secret values). */
export async function askHidden(question: string, what = question): Promise<string> {
  requireTerminal(what);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  // The interface puts the terminal in raw mode (no echo) before the prompt shows: typing fast
  // after the prompt must not echo the first characters.
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  process.stderr.write(question);
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** Yes/no on the terminal; without a terminal it is an error that names the `--yes` flag. */
export async function confirm(question: string): Promise<boolean> {
  if (!isInteractive()) throw usageError(`${question.replace(/\?$/, '')}: confirmation needed; pass --yes to run without a prompt`);
  const answer = await ask(`${question} [y/N] `);
  return /^y(es)?$/i.test(answer.trim());
}

/** All of stdin, when it is piped in. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Piped input ends with the newline of `echo`; a value does not. */
export function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
