import type { FastifyInstance } from 'fastify';
import { BadRequestError, type FieldError, ValidationFailedError } from '../errors/domain-error.js';

/**
 * Checks every request gets before any guard, pipe or DTO sees it (DESIGN.md §6, issue #11):
 *
 * - a JSON body nests at most MAX_BODY_DEPTH levels, checked by the JSON parser (class-transformer
 *   recurses once per level, so a body 3,000 levels deep overflowed the stack and answered 500);
 * - no string anywhere in the path parameters, the query or the body (values and field names alike)
 *   holds a NUL character (PostgreSQL's text cannot store one: it answered 500) or an unpaired UTF-16
 *   surrogate (not Unicode: it was silently stored as U+FFFD).
 *
 * Other control characters are the DTOs' business (see text.validators.ts): a name refuses them all, a
 * description allows tab and line breaks, a secret value or a password may hold any of them.
 */
export const MAX_BODY_DEPTH = 32;

/** True when `value` nests objects or arrays more than `limit` levels deep (the top level counts as 1). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (nestsDeeperThan(child, limit - 1)) return true;
  }
  return false;
}

/** The problem with one string, or null when it holds neither NUL nor a lone surrogate. */
function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (!text.isWellFormed()) return 'must be valid Unicode (it contains an unpaired surrogate)';
  return null;
}

/** The first NUL or lone surrogate in `value` (strings and field names, at any depth), named by its field. */
export function findBadText(value: unknown, field: string): FieldError | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { field, message: `${field} ${problem}` } : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const keyProblem = textProblem(key);
    // The key itself is what is wrong: never echo it, name the object that holds it.
    if (keyProblem) return { field, message: `${field} has a field name that ${keyProblem}` };
    const found = findBadText(child, field === 'body' ? key : `${field}.${key}`);
    if (found) return found;
  }
  return null;
}

/** The first parameter (path or query) whose name or value holds NUL or a lone surrogate. */
function findBadParameter(source: unknown, where: 'path' | 'query'): FieldError | null {
  if (typeof source !== 'object' || source === null) return null;
  for (const [name, value] of Object.entries(source)) {
    const nameProblem = textProblem(name);
    if (nameProblem) return { field: where, message: `${where} has a parameter name that ${nameProblem}` };
    const found = findBadText(value, name);
    if (found) return found;
  }
  return null;
}

/**
 * Fastify's query-string parser keeps a malformed escape (`%FF`, `%C0%AF`, the UTF-8 of a surrogate,
 * `%ZZ`) as it was sent instead of refusing it, so a search for `%FF` would run: refuse any query
 * component that is not valid percent-encoded UTF-8, naming its parameter.
 */
function findBadQueryEncoding(url: string): FieldError | null {
  const start = url.indexOf('?');
  if (start < 0) return null;
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair.includes('%')) continue;
    const equals = pair.indexOf('=');
    const name = decodes(equals < 0 ? pair : pair.slice(0, equals));
    if (name === null || textProblem(name)) return { field: 'query', message: 'query has a parameter name that is not valid percent-encoded UTF-8' };
    if (equals >= 0 && decodes(pair.slice(equals + 1)) === null) return { field: name, message: `${name} is not valid percent-encoded UTF-8` };
  }
  return null;
}

function decodes(component: string): string | null {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    return null;
  }
}

/** Path parameters, the query (its encoding, then its values), then the body: the first problem fails the request. */
function checkRequestText(url: string, params: unknown, query: unknown, body: unknown): FieldError | null {
  return findBadParameter(params, 'path') ?? findBadQueryEncoding(url) ?? findBadParameter(query, 'query') ?? findBadText(body, 'body');
}

/** The JSON parser's refusal of a body nested too deeply, or null. */
export function depthError(body: unknown): BadRequestError | null {
  return nestsDeeperThan(body, MAX_BODY_DEPTH) ? new BadRequestError(`Request body is nested too deeply (at most ${MAX_BODY_DEPTH} levels)`) : null;
}

/**
 * Installs the text check as a preValidation hook: it runs after routing and body parsing, before Nest's
 * guards (which already look up the org of a path parameter) and pipes.
 */
export function installInputChecks(fastify: FastifyInstance, { signedBodyPaths = [] }: { signedBodyPaths?: readonly string[] } = {}): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    // A body whose sender signs it (Stripe's events) is checked by its signature, not refused for its
    // text: an event with an odd character would otherwise be refused, and resent, for ever.
    const body = signedBodyPaths.includes(request.url.split('?', 1)[0]) ? undefined : request.body;
    const found = checkRequestText(request.url, request.params, request.query, body);
    done(found ? new ValidationFailedError([found]) : undefined);
  });
}
