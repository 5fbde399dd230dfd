/**
 * Malformed input on every route (DESIGN.md §6): the sweep is driven by the app's own OpenAPI document,
 * so a route added later is covered as soon as it exists. Every answer must be a 4xx in the error shape,
 * never a 500, never an echo of what was sent, and no row may change.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { addMember, createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { verifyEmail } from './factories/mail.js';
import { createProject, seedSecrets } from './factories/vault.js';
import { createWebhook } from './factories/webhooks.js';
import type { RequestOptions, Response } from './support/http.js';
import { renderedOpenApi, startTestContext, type TestContext } from './support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The routes, from the OpenAPI document of the code (the same builder serves /openapi.json), rendered
// by this worker's app host, which has the server's modules loaded already.
// ---------------------------------------------------------------------------------------------

type Schema = Record<string, any>;

interface Operation {
  method: string;
  path: string;
  operationId: string;
  /** The resolved JSON request body schema, when the operation takes one. */
  body?: Schema;
  /** Path and query parameters, with their resolved schemas. */
  params: { name: string; in: 'path' | 'query'; schema: Schema }[];
}

const document = await renderedOpenApi<{ paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } }>();

function resolve(schema: Schema): Schema {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = document.components.schemas[name];
    if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
    return resolve(target);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1) return resolve({ ...schema.allOf[0] });
  return schema;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const operations: Operation[] = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => HTTP_METHODS.includes(method))
    .map(([method, op]) => {
      // The Stripe webhook (POST /v1/billing/webhook) declares no JSON body: it verifies a signature over
      // the raw bytes and answers 400 to any unsigned body, so it is not swept here (billing.e2e-spec.ts covers it).
      const json = op.requestBody?.content?.['application/json']?.schema;
      const params = ((op.parameters ?? []) as { name: string; in: string; schema?: Schema }[])
        .filter((p) => p.in === 'path' || p.in === 'query')
        .map((p) => ({ name: p.name, in: p.in as 'path' | 'query', schema: resolve(p.schema ?? {}) }));
      return { method: method.toUpperCase(), path, operationId: op.operationId, body: json ? resolve(json) : undefined, params };
    }),
);
const bodyOperations = operations.filter((op) => op.body);
/** Routes without a body that Fastify still parses one for (GET and HEAD bodies are never parsed). */
const bodilessWriteOperations = operations.filter((op) => !op.body && !['GET', 'HEAD', 'OPTIONS'].includes(op.method));
const pathParamOperations = operations.filter((op) => op.params.some((p) => p.in === 'path'));
const queryParamOperations = operations.filter((op) => op.params.some((p) => p.in === 'query'));

// ---------------------------------------------------------------------------------------------
// Values: a valid-looking body per schema, and the malformed variants of each property.
// ---------------------------------------------------------------------------------------------

/** Marks every value the sweep sends, so an echo of it in a response is easy to spot. */
const SENTINEL = 'zqx-sentinel-7f3a';
const WRONG_NUMBER = 918_273_645_546_372;
const HUGE = 'Zq9'.repeat(33_334).slice(0, 100_000);
const HUGE_PROBE = HUGE.slice(0, 48);
const UNKNOWN_FIELD = 'unexpectedField';

function validLooking(schema: Schema, uniq: string): Schema {
  const body: Schema = {};
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    body[name] = validValue(resolve(raw as Schema), uniq);
  }
  return body;
}

function validValue(schema: Schema, uniq: string): unknown {
  if (schema.example !== undefined) return schema.format === 'email' ? `bad-input-${uniq}@example.com` : schema.example;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return schema.properties ? validLooking(schema, uniq) : {};
    default:
      if (schema.format === 'email') return `bad-input-${uniq}@example.com`;
      if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      if (schema.format === 'date-time') return new Date().toISOString();
      return 'a-valid-looking-value';
  }
}

/** Values of the wrong JSON type for a property, each one marked so it cannot be echoed unnoticed. */
function wrongTypes(schema: Schema): unknown[] {
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return [SENTINEL, true, { [SENTINEL]: 1 }, [WRONG_NUMBER]];
    case 'boolean':
      return [SENTINEL, WRONG_NUMBER, { [SENTINEL]: 1 }];
    case 'array':
      return [SENTINEL, WRONG_NUMBER, { [SENTINEL]: 1 }];
    case 'object':
      return [SENTINEL, WRONG_NUMBER, [SENTINEL]];
    default: // strings, enums and formats
      return [WRONG_NUMBER, true, { [SENTINEL]: 1 }, [SENTINEL]];
  }
}

function isStringProperty(schema: Schema): boolean {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes('string') || (Array.isArray(schema.enum) && schema.enum.every((v: unknown) => typeof v === 'string'));
}

/** Every value of a body down to its scalars: nested objects and arrays (one item) included. */
interface Leaf {
  /** Where the value sits, array items as '0' (as class-validator names them: `secrets.0.value`). */
  path: string[];
  /** The field an error must name: for an item of an array of scalars, the array itself (or the item). */
  field: string;
  schema: Schema;
}

function leaves(schema: Schema, prefix: string[] = []): Leaf[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, raw]) => {
    const prop = resolve(raw as Schema);
    const path = [...prefix, name];
    if (typeOf(prop) === 'object' && prop.properties) return leaves(prop, path);
    if (typeOf(prop) === 'array' && prop.items) {
      const item = resolve(prop.items);
      if (typeOf(item) === 'object' && item.properties) return leaves(item, [...path, '0']);
      return [{ path: [...path, '0'], field: path.join('.'), schema: item }];
    }
    return [{ path, field: path.join('.'), schema: prop }];
  });
}

function typeOf(schema: Schema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
}

/** A valid-looking body with `value` at `path` (arrays on the way get one valid-looking item). */
function bodyWith(schema: Schema, uniq: string, path: string[], value: unknown): Schema {
  const body = validLooking(schema, uniq);
  let container: any = body;
  let current = schema;
  for (let i = 0; i < path.length - 1; i++) {
    const prop = resolve(current.properties[path[i]]);
    if (typeOf(prop) === 'array') {
      const item = resolve(prop.items);
      container[path[i]] = [validValue(item, uniq)];
      if (i + 1 === path.length - 1) {
        container = container[path[i]];
        break;
      }
      container = container[path[i]][0];
      current = item;
      i++;
    } else {
      container[path[i]] ??= validLooking(prop, uniq);
      container = container[path[i]];
      current = prop;
    }
  }
  container[path[path.length - 1]] = value;
  return body;
}

/**
 * Fields whose text is opaque to secr and may hold any character but NUL and lone surrogates: secret
 * values (hashed or encrypted, never rendered by the server) and passwords (hashed; refusing characters
 * there could lock a user out). Every other string refuses C0/C1 control characters.
 */
const OPAQUE_FIELDS = new Set(['value', 'password', 'currentPassword', 'newPassword']);
/** Multi-line free text: tab, LF and CR are allowed (and no other control character). */
const MULTILINE_FIELDS = new Set(['description']);
const lastName = (leaf: Leaf) => leaf.path.filter((p) => p !== '0').at(-1)!;

/** NUL and unpaired UTF-16 surrogates: no string anywhere may hold them. */
const NUL_AND_SURROGATES: [string, string][] = [
  ['NUL', `${SENTINEL}\u0000`],
  ['only NUL', '\u0000'],
  ['lone high surrogate', `${SENTINEL}\ud800`],
  ['lone low surrogate', `\udc00${SENTINEL}`],
  ['reversed pair', `\udc00\ud800`],
];
/** C0 (but tab, LF, CR), DEL and C1 controls: refused in every string that is not opaque. */
const CONTROL_CHARACTERS: [string, string][] = [
  ['U+0001', `${SENTINEL}\u0001`],
  ['ESC sequence', `\u001b[2J${SENTINEL}`],
  ['DEL', `a\u007f`],
  ['U+0085 (NEL)', `a\u0085b`],
  ['U+009B (CSI)', `\u009b31m`],
];
/** Tab, LF and CR: allowed in multi-line text only. */
const LINE_BREAKS: [string, string][] = [
  ['LF', `${SENTINEL}\nInjected: header`],
  ['CR', `a\rb`],
  ['tab', `a\tb`],
];

/** Integers outside PostgreSQL's int4, fractions and non-finite numbers, as raw JSON. */
const BAD_INTEGERS = ['2147483648', '-2147483649', '99999999999999999999', '1e400', '1.5', '9007199254740993'];

/** What a wrong-type message must say about the expected type. */
function typeWording(schema: Schema): RegExp {
  if (Array.isArray(schema.enum)) return /one of/;
  // An address field says what it must be ("a valid email address"), which a number or an object is not.
  if (schema.format === 'email' || /^[^@\s:/]+@[^@\s:/]+\.[a-z]+$/i.test(String(schema.example ?? ''))) return /email/;
  if (schema.format === 'uuid') return /UUID/i;
  switch (typeOf(schema)) {
    case 'integer':
      return /integer/;
    case 'number':
      return /number/;
    case 'boolean':
      return /boolean/;
    case 'array':
      return /array/;
    case 'object':
      return /object/;
    default:
      return /string/;
  }
}

/** A body nested `depth` levels deep under `key`: arrays, or objects. */
const deepArrays = (key: string, depth: number) => `{"${key}": ${'['.repeat(depth)}"${SENTINEL}"${']'.repeat(depth)}}`;
const deepObjects = (key: string, depth: number) => `{"${key}": ${'{"a":'.repeat(depth)}"${SENTINEL}"${'}'.repeat(depth)}}`;

/** Path-segment encodings every path parameter must survive with a 4xx in the error shape. */
const PATH_SEGMENTS: { name: string; segment: string; nul?: boolean }[] = [
  { name: '%00', segment: '%00', nul: true },
  { name: 'NUL inside', segment: `zqx%00sentinel`, nul: true },
  { name: '%01', segment: 'a%01b' },
  { name: 'ESC', segment: '%1B%5B2J' },
  { name: '%2F', segment: 'a%2Fb' },
  { name: '..', segment: '..' },
  { name: '%2E%2E', segment: '%2E%2E' },
  { name: '.', segment: '.' },
  { name: '%2E%2E%2F..', segment: '%2E%2E%2F..' },
  { name: 'very long', segment: 'x'.repeat(5_000) },
  { name: 'overlong UTF-8 %C0%AF', segment: '%C0%AF' },
  { name: 'invalid UTF-8 %FF', segment: '%FF' },
  { name: 'UTF-8 of a lone surrogate', segment: '%ED%A0%80' },
  { name: 'truncated escape', segment: 'a%E2%82' },
  { name: 'bad escape %ZZ', segment: '%ZZ' },
];

/** Query-string values for every query parameter. */
const QUERY_VALUES: { name: string; value: string; nul?: boolean }[] = [
  { name: '%00', value: '%00', nul: true },
  { name: 'NUL inside', value: 'A%00B', nul: true },
  { name: '%01', value: 'A%01' },
  { name: 'ESC', value: '%1B%5B2J' },
  { name: 'invalid UTF-8 %FF', value: '%FF' },
  { name: 'overlong UTF-8 %C0%AF', value: '%C0%AF' },
  { name: 'UTF-8 of a lone surrogate', value: '%ED%A0%80' },
  { name: 'very long', value: 'x'.repeat(5_000) },
  { name: 'repeated parameter', value: '1&{name}=2' },
];
const QUERY_NUMBERS = ['abc', '99999999999999999999', '2147483648', '-1', '1.5', 'Infinity', 'NaN', '', '1e400'];

/** Runs `tasks` with at most `width` in flight (the suite runs on 2 shared cores). */
async function pool<T>(tasks: (() => Promise<T>)[], width = 8): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------
// The error shape of DESIGN.md §6.
// ---------------------------------------------------------------------------------------------

const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'plan_limit_exceeded',
  'rate_limited',
  'internal_error',
  // Fastify's own refusals, mapped by HttpErrorFilter:
  'payload_too_large',
  'unsupported_media_type',
];

/** Everything wrong with one response, as readable lines (empty = fine). */
interface Expected {
  /** A status, or '4xx' where any client error is a fair answer (never a 5xx, never a success). */
  status: number | '4xx';
  code?: string;
  field?: string;
  /** Every error about `field` must say this (for example what type the field must have). */
  wording?: RegExp;
}

function problemsWith(res: Response, expected: Expected): string[] {
  const problems: string[] = [];
  const body = res.body as Record<string, unknown> | undefined;
  const statusOk = expected.status === '4xx' ? res.status >= 400 && res.status < 500 : res.status === expected.status;
  if (!statusOk) problems.push(`status ${res.status}, expected ${expected.status}: ${res.text.slice(0, 300)}`);
  if (!res.headers.get('content-type')?.includes('application/json') || !body || typeof body !== 'object') {
    return [...problems, `not a JSON error body: ${res.headers.get('content-type')} ${res.text.slice(0, 200)}`];
  }
  const allowed = ['statusCode', 'code', 'message', 'requestId', 'errors'];
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length) problems.push(`unexpected keys ${extra.join(', ')}`);
  if (body.statusCode !== res.status) problems.push(`statusCode ${String(body.statusCode)} differs from the HTTP status ${res.status}`);
  if (typeof body.code !== 'string' || !ERROR_CODES.includes(body.code)) problems.push(`code ${String(body.code)} is not a documented code`);
  if (expected.code && body.code !== expected.code) problems.push(`code ${String(body.code)}, expected ${expected.code}`);
  if (typeof body.message !== 'string' || body.message.length === 0) problems.push('no message');
  if (typeof body.requestId !== 'string' || body.requestId.length === 0) problems.push('no requestId');
  if (res.headers.get('x-request-id') !== body.requestId) {
    problems.push(`X-Request-Id ${res.headers.get('x-request-id')} differs from requestId ${String(body.requestId)}`);
  }
  if (body.code === 'validation_failed') {
    const errors = body.errors;
    const wellFormed =
      Array.isArray(errors) &&
      errors.length > 0 &&
      errors.every((e) => e && typeof e.field === 'string' && e.field.length > 0 && typeof e.message === 'string' && e.message.length > 0);
    if (!wellFormed) problems.push(`validation_failed without errors[{ field, message }]: ${JSON.stringify(errors)}`);
    else if (expected.field && !(errors as { field: string }[]).some((e) => e.field === expected.field || e.field.startsWith(`${expected.field}.`))) {
      problems.push(`errors do not name ${expected.field}: ${JSON.stringify(errors)}`);
    } else if (expected.field && expected.wording) {
      const about = (errors as { field: string; message: string }[]).filter((e) => e.field === expected.field || e.field.startsWith(`${expected.field}.`));
      const off = about.filter((e) => !expected.wording!.test(e.message));
      if (off.length) problems.push(`errors about ${expected.field} do not say ${expected.wording}: ${JSON.stringify(off)}`);
    }
  } else if ('errors' in body) {
    problems.push(`errors[] on a ${String(body.code)} response`);
  }
  for (const probe of [SENTINEL, String(WRONG_NUMBER), HUGE_PROBE]) {
    if (res.text.includes(probe)) problems.push(`the response echoes a value that was sent (${probe.slice(0, 20)}…)`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// "No row changed": a digest of every table of the public schema.
// ---------------------------------------------------------------------------------------------

async function snapshot(db: pg.Pool): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    // request_metrics counts every request, refused ones included, and is written in the background every
    // 15 s (METRICS_FLUSH_INTERVAL_MS): a flush during the sweep is not a change made by the input.
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'request_metrics' ORDER BY tablename`,
  );
  // Every table's digest in one statement (one round trip per snapshot, not one per table): the sweep
  // takes two snapshots per swept route.
  const { rows } = await db.query<{ name: string; digest: string }>(
    tables
      .map(
        ({ name }) =>
          `SELECT '${name}' AS name, (SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "${name}" t) AS digest`,
      )
      .join(' UNION ALL '),
  );
  const digests: Record<string, string> = {};
  for (const { name, digest } of rows) digests[name] = digest;
  return digests;
}

const SWEEP_ADMIN_EMAIL = 'bad-input-admin@example.com';

describe('bad input', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  /** Real values for every path parameter, so a request gets past routing and access checks to validation. */
  let pathParams: Record<string, string>;

  const auth = (): RequestOptions => ({ session: owner.session });

  /**
   * Snapshots every table before the tests of the describe block that calls it; `itChangesNoRow`, called
   * last in that block, adds the test that no row changed since.
   */
  function watchRows(): { itChangesNoRow: () => void } {
    let before: Record<string, string>;
    beforeAll(async () => {
      before = await snapshot(ctx.db);
    });
    return {
      itChangesNoRow: () =>
        it('changes no row in any table', async () => {
          expect(await snapshot(ctx.db)).toEqual(before);
        }),
    };
  }

  function pathOf(op: Operation): string {
    return op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = paramValue(op, name);
      if (!value) throw new Error(`no fixture for path parameter {${name}} of ${op.method} ${op.path}: add one to pathParams`);
      return value;
    });
  }

  /** The operation's path with one parameter replaced by a raw (already encoded) segment. */
  function pathWith(op: Operation, param: string, segment: string): string {
    return op.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === param ? segment : encodeURIComponent(paramValue(op, name))));
  }

  /** A fixture for a path parameter: `webhooks.id` for the `{id}` of /v1/webhooks/…, else by name alone. */
  function paramValue(op: Operation, name: string): string {
    return pathParams[`${op.path.split('/')[2]}.${name}`] ?? pathParams[name];
  }

  /** Sends every case and reports all problems at once, naming the case. */
  async function sweep(op: Operation, cases: ({ name: string; options: RequestOptions; path?: string } & Expected)[]): Promise<string[]> {
    const results = await pool(
      cases.map((c) => async () => {
        const res = c.path
          ? await ctx.api.requestRawPath(op.method, c.path, { ...auth(), ...c.options })
          : await ctx.api.request(op.method, pathOf(op), { ...auth(), ...c.options });
        return problemsWith(res, c).map((p) => `${c.name}: ${p}`);
      }),
    );
    return results.flat();
  }

  beforeAll(async () => {
    // The sweep's user is also an instance admin, so admin routes get past the guard to validation.
    // No instance sends webhook deliveries (WEBHOOK_CONCURRENCY=0): the seeded webhook only has to exist.
    ctx = await startTestContext({ SECR_ADMIN_EMAILS: SWEEP_ADMIN_EMAIL, WEBHOOK_CONCURRENCY: '0' });
    owner = await registerUser(ctx.api, 'owner', SWEEP_ADMIN_EMAIL);
    await verifyEmail(ctx.api, ctx.db, owner.id);
    org = await createOrg(ctx.api, owner, 'Bad Input');
    const member = await registerUser(ctx.api, 'member');
    await addMember(ctx.api, org, owner, member, 'developer');
    const token = await createToken(ctx.api, owner, { access: 'read_write' });
    const invited = await ctx.api.post(`/v1/members/${org.id}/invite`, { email: `pending-${Date.now()}@example.com`, role: 'viewer' }, auth());
    if (invited.status !== 201) throw new Error(`invite failed: ${invited.status} ${invited.text}`);
    const project = await createProject(ctx.api, owner, org, 'bad-input');
    await seedSecrets(ctx.api, auth(), org, project, 'development', { EXISTING_KEY: 'existing value' });
    // A row in every table a route may change, so that "changes no row" compares something: a webhook
    // and a template that a malformed PATCH or DELETE must leave as they are.
    const webhook = await createWebhook(ctx.api, owner, org, { url: 'https://1.1.1.1/bad-input', description: 'seeded' });
    const template = await ctx.api.post(`/v1/templates/${org.slug}/${project.slug}`, { key: 'EXISTING_KEY', description: 'seeded' }, auth());
    if (template.status !== 201) throw new Error(`template failed: ${template.status} ${template.text}`);
    const trust = await ctx.api.post(
      `/v1/orgs/${org.id}/oidc-trusts`,
      {
        name: 'seeded',
        issuer: 'https://token.actions.githubusercontent.com',
        audience: 'https://secr.example.test',
        conditions: [{ claim: 'repository', pattern: 'acme/api' }],
        project: project.slug,
        access: 'read',
      },
      auth(),
    );
    if (trust.status !== 201) throw new Error(`trust failed: ${trust.status} ${trust.text}`);
    pathParams = {
      orgId: org.id,
      orgSlug: org.slug,
      id: member.id,
      tokenId: token.id,
      token: invited.body.token,
      inviteId: invited.body.invite.id,
      slug: project.slug,
      project: project.slug,
      env: 'development',
      key: 'EXISTING_KEY',
      planName: 'team',
      'webhooks.id': webhook.id,
      trustId: trust.body.id,
    };
    // Warm-up: the owner's session is used once before any snapshot, so nothing the first use might
    // touch can show up as a change (session reads write nothing today; this keeps it honest if they do).
    expect((await ctx.api.get('/v1/auth/me', auth())).status).toBe(200);
  });
  afterAll(() => ctx.close());

  it('sweeps the routes of the document the app serves at /openapi.json', async () => {
    const served = await ctx.api.get('/openapi.json');
    expect(served.status).toBe(200);
    const ids = (doc: { paths: Record<string, Record<string, { operationId: string }>> }) =>
      Object.values(doc.paths)
        .flatMap((item) => Object.values(item).map((op) => op.operationId))
        .sort();
    expect(ids(served.body)).toEqual(ids(document));
    expect(bodyOperations.length).toBeGreaterThan(0);
  });

  describe.each(bodyOperations.map((op) => [`${op.method} ${op.path}`, op] as const))('%s', (_, op) => {
    const schema = op.body!;
    const properties = Object.entries(schema.properties ?? {}).map(([name, raw]) => [name, resolve(raw as Schema)] as const);
    const hasRequired = Array.isArray(schema.required) && schema.required.length > 0;
    const rows = watchRows();
    let n = 0;
    const body = () => validLooking(schema, `${op.operationId.toLowerCase()}-${++n}`);

    it('refuses a body that is not valid JSON with 400 bad_request', async () => {
      const raws = [`{"${properties[0]?.[0] ?? 'a'}": "${SENTINEL}"`, `{'single': '${SENTINEL}'}`, `{"a": 1,}`, `${SENTINEL}`, `{"a": "\\x${SENTINEL}"}`, ''];
      const problems = await sweep(
        op,
        raws.map((rawBody) => ({ name: `raw ${JSON.stringify(rawBody.slice(0, 30))}`, options: { rawBody }, status: 400, code: 'bad_request' })),
      );
      expect(problems).toEqual([]);
    });

    it('refuses __proto__ and constructor.prototype keys with 400 bad_request', async () => {
      const raws = [`{"__proto__": {"isAdmin": true, "x": "${SENTINEL}"}}`, `{"constructor": {"prototype": {"isAdmin": true, "x": "${SENTINEL}"}}}`];
      const problems = await sweep(
        op,
        raws.map((rawBody) => ({ name: rawBody.slice(0, 20), options: { rawBody }, status: 400, code: 'bad_request' })),
      );
      expect(problems).toEqual([]);
    });

    it('refuses anything but application/json with 415, even when the body itself is valid JSON', async () => {
      const types = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'];
      const problems = await sweep(
        op,
        types.map((contentType) => ({
          name: contentType,
          options: { rawBody: JSON.stringify({ ...body(), [UNKNOWN_FIELD]: SENTINEL }), contentType },
          status: 415,
          code: 'unsupported_media_type',
        })),
      );
      expect(problems).toEqual([]);
    });

    it('rejects an unknown field on an otherwise valid-looking body, naming the field', async () => {
      const problems = await sweep(op, [
        { name: 'unknown field', options: { body: { ...body(), [UNKNOWN_FIELD]: SENTINEL } }, status: 400, code: 'validation_failed', field: UNKNOWN_FIELD },
        {
          name: 'unknown object field',
          options: { body: { ...body(), [UNKNOWN_FIELD]: { nested: SENTINEL } } },
          status: 400,
          code: 'validation_failed',
          field: UNKNOWN_FIELD,
        },
      ]);
      expect(problems).toEqual([]);
    });

    it('rejects each property sent with a wrong JSON type, naming the property', async () => {
      const cases = properties.flatMap(([name, prop]) =>
        wrongTypes(prop).map((value) => ({
          name: `${name} = ${JSON.stringify(value)}`,
          options: { body: { ...body(), [name]: value } },
          status: 400,
          code: 'validation_failed',
          field: name,
        })),
      );
      expect(await sweep(op, cases)).toEqual([]);
    });

    it('rejects a 100,000-character string in each string property without echoing it', async () => {
      const cases = properties
        .filter(([, prop]) => isStringProperty(prop))
        .map(([name]) => ({ name: `huge ${name}`, options: { body: { ...body(), [name]: HUGE } }, status: 400, code: 'validation_failed', field: name }));
      expect(await sweep(op, cases)).toEqual([]);
    });

    // A body whose properties are all optional legitimately accepts {} (and no body at all, read as {});
    // for such a route these cases would be valid requests, not malformed ones, so it has no such test.
    if (hasRequired)
      it('rejects an empty object and a missing body with validation_failed', async () => {
        const problems = await sweep(op, [
          { name: '{}', options: { body: {} }, status: 400, code: 'validation_failed' },
          { name: 'no body', options: {}, status: 400, code: 'validation_failed' },
        ]);
        expect(problems).toEqual([]);
      });

    it('refuses a JSON array, null, string, number or boolean where an object is expected', async () => {
      const problems = await sweep(
        op,
        [
          ['[]', '[]'],
          ['[valid body]', JSON.stringify([body()])],
          ['null', 'null'],
          ['string', JSON.stringify(SENTINEL)],
          ['number', String(WRONG_NUMBER)],
          ['true', 'true'],
        ].map(([name, rawBody]) => ({ name, options: { rawBody }, status: 400, code: 'bad_request' })),
      );
      expect(problems).toEqual([]);
    });

    it('refuses a body nested deeper than 32 levels with 400 bad_request, before any DTO work', async () => {
      const key = properties[0]?.[0] ?? 'a';
      const problems = await sweep(
        op,
        [
          ['arrays 3,000 deep', deepArrays(key, 3_000)],
          ['objects 3,000 deep', deepObjects(key, 3_000)],
          ['arrays 40 deep', deepArrays(key, 40)],
          ['objects 33 deep', deepObjects(key, 33)],
          ['top-level arrays 3,000 deep', `${'['.repeat(3_000)}${']'.repeat(3_000)}`],
        ].map(([name, rawBody]) => ({ name, options: { rawBody }, status: 400, code: 'bad_request' })),
      );
      expect(problems).toEqual([]);
    });

    it('rejects NUL and lone surrogates in every string, nested ones included, naming the field', async () => {
      const cases = leaves(schema)
        .filter((leaf) => isStringProperty(leaf.schema))
        .flatMap((leaf) =>
          NUL_AND_SURROGATES.map(([what, value]) => ({
            name: `${leaf.path.join('.')} with ${what}`,
            options: { body: bodyWith(schema, `${op.operationId.toLowerCase()}-${++n}`, leaf.path, value) },
            status: 400,
            code: 'validation_failed',
            field: leaf.field,
          })),
        );
      expect(await sweep(op, cases)).toEqual([]);
    });

    it('rejects NUL and lone surrogates in a field name', async () => {
      const problems = await sweep(op, [
        { name: 'NUL in a key', options: { body: { ...body(), [`${SENTINEL}\u0000`]: 1 } }, status: 400, code: 'validation_failed' },
        { name: 'lone surrogate in a key', options: { body: { ...body(), [`\ud800${SENTINEL}`]: 1 } }, status: 400, code: 'validation_failed' },
      ]);
      expect(problems).toEqual([]);
    });

    it('rejects C0/C1 control characters in every string that is not opaque (values, passwords), naming the field', async () => {
      const cases = leaves(schema)
        .filter((leaf) => isStringProperty(leaf.schema) && !OPAQUE_FIELDS.has(lastName(leaf)))
        .flatMap((leaf) =>
          [...CONTROL_CHARACTERS, ...(MULTILINE_FIELDS.has(lastName(leaf)) ? [] : LINE_BREAKS)].map(([what, value]) => ({
            name: `${leaf.path.join('.')} with ${what}`,
            options: { body: bodyWith(schema, `${op.operationId.toLowerCase()}-${++n}`, leaf.path, value) },
            status: 400,
            code: 'validation_failed',
            field: leaf.field,
          })),
        );
      expect(await sweep(op, cases)).toEqual([]);
    });

    it('rejects integers beyond PostgreSQL int4, fractions and non-finite numbers in every number, naming the field', async () => {
      const cases = leaves(schema)
        .filter((leaf) => ['integer', 'number'].includes(typeOf(leaf.schema) ?? ''))
        .flatMap((leaf) =>
          BAD_INTEGERS.map((raw) => ({
            name: `${leaf.path.join('.')} = ${raw}`,
            options: {
              rawBody: JSON.stringify(bodyWith(schema, `${op.operationId.toLowerCase()}-${++n}`, leaf.path, '__NUMBER__')).replace('"__NUMBER__"', raw),
            },
            status: 400,
            code: 'validation_failed',
            field: leaf.field,
          })),
        );
      expect(await sweep(op, cases)).toEqual([]);
    });

    it('says what type a property must have when it is sent with the wrong type', async () => {
      const cases = leaves(schema).flatMap((leaf) =>
        wrongTypes(leaf.schema).map((value) => ({
          name: `${leaf.path.join('.')} = ${JSON.stringify(value)}`,
          options: { body: bodyWith(schema, `${op.operationId.toLowerCase()}-${++n}`, leaf.path, value) },
          status: 400,
          code: 'validation_failed',
          field: leaf.field,
          wording: typeWording(leaf.schema),
        })),
      );
      expect(await sweep(op, cases)).toEqual([]);
    });

    rows.itChangesNoRow();
  });

  describe.each(bodilessWriteOperations.map((op) => [`${op.method} ${op.path}`, op] as const))('%s (no request body)', (_, op) => {
    const rows = watchRows();

    it('refuses a malformed or non-JSON body before the handler runs', async () => {
      const problems = await sweep(op, [
        { name: 'invalid JSON', options: { rawBody: `{"a": "${SENTINEL}"` }, status: 400, code: 'bad_request' },
        { name: 'nested 3,000 deep', options: { rawBody: deepArrays('a', 3_000) }, status: 400, code: 'bad_request' },
        { name: 'text/plain', options: { rawBody: SENTINEL, contentType: 'text/plain' }, status: 415, code: 'unsupported_media_type' },
        { name: 'form', options: { rawBody: `a=${SENTINEL}`, contentType: 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
      ]);
      expect(problems).toEqual([]);
    });

    rows.itChangesNoRow();
  });

  describe.each(pathParamOperations.map((op) => [`${op.method} ${op.path}`, op] as const))('%s (path parameters)', (_, op) => {
    const rows = watchRows();
    let n = 0;
    const body = () => (op.body ? validLooking(op.body, `${op.operationId.toLowerCase()}-path-${++n}`) : undefined);

    it('answers NUL, control characters and odd encodings in every path segment with a 4xx in the error shape', async () => {
      const cases = op.params
        .filter((p) => p.in === 'path')
        .flatMap((param) =>
          PATH_SEGMENTS.map((variant) => ({
            name: `{${param.name}} = ${variant.name}`,
            path: pathWith(op, param.name, variant.segment),
            options: { body: body() },
            ...(variant.nul ? { status: 400, code: 'validation_failed', field: param.name } : { status: '4xx' as const }),
          })),
        );
      expect(await sweep(op, cases)).toEqual([]);
    });

    rows.itChangesNoRow();
  });

  describe.each(queryParamOperations.map((op) => [`${op.method} ${op.path}`, op] as const))('%s (query parameters)', (_, op) => {
    const rows = watchRows();

    it('answers NUL, control characters and odd encodings in every query parameter with a 4xx in the error shape', async () => {
      const cases = op.params
        .filter((p) => p.in === 'query')
        .flatMap((param) =>
          QUERY_VALUES.map((variant) => ({
            name: `?${param.name}=${variant.name}`,
            path: `${pathWith(op, '', '')}?${param.name}=${variant.value.replace('{name}', param.name)}`,
            options: {},
            ...(variant.nul ? { status: 400, code: 'validation_failed', field: param.name } : { status: '4xx' as const }),
          })),
        );
      expect(await sweep(op, cases)).toEqual([]);
    });

    it('rejects non-integers and integers beyond int4 in every numeric query parameter, saying it must be an integer', async () => {
      const cases = op.params
        .filter((p) => p.in === 'query' && ['integer', 'number'].includes(typeOf(p.schema) ?? ''))
        .flatMap((param) =>
          QUERY_NUMBERS.map((value) => ({
            name: `?${param.name}=${value}`,
            path: `${pathWith(op, '', '')}?${param.name}=${value}`,
            options: {},
            status: 400,
            code: 'validation_failed',
            field: param.name,
            ...(['abc', '1.5', 'Infinity', 'NaN', '', '1e400'].includes(value) ? { wording: /integer/ } : {}),
          })),
        );
      expect(await sweep(op, cases)).toEqual([]);
    });

    rows.itChangesNoRow();
  });

  describe('text policy (these requests succeed and change rows, so they run last)', () => {
    it('keeps a secret value with tabs, line breaks, ESC and C1 controls exactly as sent (values are opaque)', async () => {
      const value = '-----BEGIN KEY-----\r\n\tline\u001b[0m\u0001\u0085\u009b\u007f\n-----END KEY-----\n';
      const path = `/v1/secrets/${org.slug}/${pathParams.project}/development`;
      const set = await ctx.api.put(path, { key: 'OPAQUE_VALUE', value, description: 'line one\nline two\twith a tab\r\n' }, auth());
      expect(set.status).toBe(200);
      const pulled = await ctx.api.get(path, auth());
      expect(pulled.body.secrets.find((s: { key: string }) => s.key === 'OPAQUE_VALUE')).toMatchObject({
        value,
        description: 'line one\nline two\twith a tab\r\n',
      });
    });

    it('refuses a line break in a name but takes one in a description', async () => {
      const named = await ctx.api.post('/v1/orgs', { name: 'Acme\nInjected: yes' }, auth());
      expect(problemsWith(named, { status: 400, code: 'validation_failed', field: 'name' })).toEqual([]);
      const described = await ctx.api.post(`/v1/projects/${org.id}`, { name: 'Described', description: 'first line\nsecond line' }, auth());
      expect(described.status).toBe(201);
      expect(described.body.description).toBe('first line\nsecond line');
    });
  });

  describe('any route', () => {
    it('answers an unknown route with 404 not_found in the error shape', async () => {
      for (const [method, path] of [
        ['GET', '/v1/no-such-route'],
        ['POST', '/v1/auth/no-such-route'],
        ['GET', '/no-prefix'],
      ]) {
        const res = await ctx.api.request(method, path, auth());
        expect(problemsWith(res, { status: 404, code: 'not_found' })).toEqual([]);
      }
    });

    it('answers with its own request id, never a caller X-Request-Id, well-formed or not, on success and on error', async () => {
      const id = 'caller-req-0123456789';
      const ok = await ctx.api.get('/v1/auth/me', { ...auth(), headers: { 'x-request-id': id } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const bad = await ctx.api.post('/v1/orgs', { [UNKNOWN_FIELD]: SENTINEL }, { ...auth(), headers: { 'x-request-id': id } });
      expect(problemsWith(bad, { status: 400, code: 'validation_failed' })).toEqual([]);
      expect(bad.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
      for (const supplied of ['short', 'has spaces in it', `${'x'.repeat(129)}`, '<script>alert(1)</script>']) {
        const res = await ctx.api.get('/v1/no-such-route', { headers: { 'x-request-id': supplied } });
        expect(problemsWith(res, { status: 404 })).toEqual([]);
        expect(res.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
      }
    });

    it('puts a distinct request id on every response, success included', async () => {
      const a = await ctx.api.get('/health');
      const b = await ctx.api.get('/health');
      expect(a.headers.get('x-request-id')).toBeTruthy();
      expect(b.headers.get('x-request-id')).toBeTruthy();
      expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    });

    it('refuses a 1.5 MiB body with 413 payload_too_large and changes nothing', async () => {
      const before = await snapshot(ctx.db);
      const rawBody = JSON.stringify({ name: 'Too Big', slug: 'too-big', padding: HUGE.repeat(16).slice(0, 1.5 * 1024 * 1024) });
      const res = await ctx.api.request('POST', '/v1/orgs', { ...auth(), rawBody });
      expect(problemsWith(res, { status: 413, code: 'payload_too_large' })).toEqual([]);
      expect(await snapshot(ctx.db)).toEqual(before);
    });
  });
});
