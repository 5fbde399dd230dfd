import { ValidationFailedError } from '../../common/errors/domain-error.js';

/**
 * Password quality after NIST SP 800-63B §5.1.1.2: a minimum length (PASSWORD_MIN in auth.dto.ts) and a
 * generous maximum, no composition rules, and a check against passwords known to be common or breached,
 * repetitive or sequential, or derived from the account's own address. Messages name the field and what
 * to do, never the password.
 *
 * The list of common passwords is @zxcvbn-ts/language-common's `passwords` dictionary (about 49,000
 * entries, most frequent first, lower-cased, from breach corpora): loaded on the first check, not at
 * start-up (about 30 ms once), and kept as a Set.
 */

const ADVICE = 'choose a longer or less common password';

/** Words any guesser tries first for this service. */
const CONTEXT_WORDS = ['secr', 'secret', 'secrets'];

/** Keyboard rows, forwards; a password that is a run of one of them (or its reverse) is a sequence. */
const KEYBOARD_ROWS = ['`1234567890-=', 'qwertyuiop[]\\', "asdfghjkl;'", 'zxcvbnm,./', 'qwertzuiop', 'azertyuiop', 'qsdfghjklm', 'wxcvbn'];

let common: Promise<ReadonlySet<string>> | undefined;

function commonPasswords(): Promise<ReadonlySet<string>> {
  common ??= import('@zxcvbn-ts/language-common/dist/passwords.json.mjs' as string).then(
    (module: { default: string[] }) => new Set(module.default.map((p) => p.toLowerCase())),
    (error: unknown) => {
      common = undefined; // the next check tries again, rather than every sign-up failing until a restart
      throw error;
    },
  );
  return common;
}

export interface PasswordContext {
  /** The field the password came in (`password`, `newPassword`), for the error. */
  readonly field: string;
  /** The account's address: the password may be neither it nor its local part. */
  readonly email: string;
}

/** Throws 400 validation_failed naming `context.field` when the password is too weak. */
export async function assertPasswordQuality(password: string, context: PasswordContext): Promise<void> {
  const problem = await passwordProblem(password, context.email);
  if (problem) throw new ValidationFailedError([{ field: context.field, message: `${context.field} ${problem}; ${ADVICE}` }]);
}

/** What is wrong with the password, as the end of a sentence that starts with the field's name; `null` if nothing. */
export async function passwordProblem(password: string, email: string): Promise<string | null> {
  if (password.trim() === '') return 'must not be only spaces';
  const normalized = password.normalize('NFKC').toLowerCase();
  const compact = normalized.replace(/\s+/g, ' ').trim();
  const chars = [...compact.replace(/\s/g, '')];

  if (new Set(chars).size === 1) return 'must not be one character repeated';
  if (isRepeatedPattern(chars)) return 'must not be a short pattern repeated';
  if (isSequence(chars)) return "must not be a simple sequence such as 'abcdefgh', '12345678' or 'qwertyuiop'";

  const address = email.trim().toLowerCase();
  const local = address.split('@')[0];
  if (compact.includes(address) || compact === local || derivedFrom(compact, local)) return 'must not be your email address or a variation of it';
  if (CONTEXT_WORDS.some((word) => derivedFrom(compact, word))) return "must not be a variation of the service's name";

  const list = await commonPasswords();
  const candidates = new Set([compact, compact.replace(/\s/g, ''), stripAffixes(compact), stripAffixes(compact.replace(/\s/g, ''))]);
  for (const candidate of candidates) {
    if (candidate.length && list.has(candidate)) return 'is too common: it is on lists of breached and frequently used passwords';
  }
  return null;
}

/** `word` with only digits, symbols or spaces around it (e.g. 'ada2024!' from 'ada'). */
function derivedFrom(password: string, word: string): boolean {
  if (word.length < 3) return password === word;
  const index = password.indexOf(word);
  if (index < 0) return false;
  const rest = password.slice(0, index) + password.slice(index + word.length);
  return !/\p{L}/u.test(rest);
}

/** The password without leading and trailing digits, symbols and spaces ('password12!' → 'password'). */
function stripAffixes(password: string): string {
  const stripped = password.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  return stripped.length >= 4 ? stripped : '';
}

/** 'abcabcabc', '12121212': a unit of at most 4 characters, repeated. */
function isRepeatedPattern(chars: string[]): boolean {
  for (let unit = 2; unit <= 4 && unit * 2 <= chars.length; unit++) {
    if (chars.length % unit) continue;
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

/** Each character one step from the last in the alphabet, the digits or a keyboard row, in one direction. */
function isSequence(chars: string[]): boolean {
  const text = chars.join('');
  const rows = [...KEYBOARD_ROWS, ...KEYBOARD_ROWS.map((row) => [...row].reverse().join(''))];
  if (rows.some((row) => row.includes(text))) return true;
  const codes = chars.map((c) => c.codePointAt(0)!);
  const step = codes[1] - codes[0];
  return (step === 1 || step === -1) && codes.every((code, i) => i === 0 || code - codes[i - 1] === step);
}
