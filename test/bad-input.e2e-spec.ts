/**
 * Malformed input on every route (DESIGN.md §6): the sweep is driven by the app's own OpenAPI document,
 * so a route added later is covered as soon as it exists. Every answer must be a 4xx in the error shape,
 * never a 500, never an echo of what was sent, and no row may change.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { renderOpenApi } from '../src/openapi/write-openapi.js';
import { addMember, createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { verifyEmail } from './factories/mail.js';
import { createProject, seedSecrets } from './factories/vault.js';
import type { RequestOptions, Response } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The routes, from the OpenAPI document of the code (the same builder serves /openapi.json).
// ---------------------------------------------------------------------------------------------

type Schema = Record<string, any>;

interface Operation {
  method: string;
  path: string;
  operationId: string;
  /** The resolved JSON request body schema, when the operation takes one. */
  body?: Schema;
}

const document = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } };

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
      return { method: method.toUpperCase(), path, operationId: op.operationId, body: json ? resolve(json) : undefined };
    }),
);
const bodyOperations = operations.filter((op) => op.body);
/** Routes without a body that Fastify still parses one for (GET and HEAD bodies are never parsed). */
const bodilessWriteOperations = operations.filter((op) => !op.body && !['GET', 'HEAD', 'OPTIONS'].includes(op.method));

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
function problemsWith(res: Response, expected: { status: number; code?: string; field?: string }): string[] {
  const problems: string[] = [];
  const body = res.body as Record<string, unknown> | undefined;
  if (res.status !== expected.status) problems.push(`status ${res.status}, expected ${expected.status}: ${res.text.slice(0, 300)}`);
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
    // request_metrics is written by a 15-second timer, not by the request under test: a sweep that
    // spans a flush would otherwise see rows appear.
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'request_metrics' ORDER BY tablename`,
  );
  const digests: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await db.query<{ digest: string }>(
      `SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM "${name}" t`,
    );
    digests[name] = rows[0].digest;
  }
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

  function pathOf(op: Operation): string {
    return op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = pathParams[name];
      if (!value) throw new Error(`no fixture for path parameter {${name}} of ${op.method} ${op.path}: add one to pathParams`);
      return value;
    });
  }

  /** Sends every case and reports all problems at once, naming the case. */
  async function sweep(
    op: Operation,
    cases: { name: string; options: RequestOptions; status: number; code?: string; field?: string }[],
  ): Promise<string[]> {
    const problems: string[] = [];
    for (const c of cases) {
      const res = await ctx.api.request(op.method, pathOf(op), { ...auth(), ...c.options });
      problems.push(...problemsWith(res, c).map((p) => `${c.name}: ${p}`));
    }
    return problems;
  }

  beforeAll(async () => {
    // The sweep's user is also an instance admin, so admin routes get past the guard to validation.
    ctx = await startTestContext({ SECR_ADMIN_EMAILS: SWEEP_ADMIN_EMAIL });
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
      Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId)).sort();
    expect(ids(served.body)).toEqual(ids(document));
    expect(bodyOperations.length).toBeGreaterThan(0);
  });

  describe.each(bodyOperations.map((op) => [`${op.method} ${op.path}`, op] as const))('%s', (_, op) => {
    const schema = op.body!;
    const properties = Object.entries(schema.properties ?? {}).map(([name, raw]) => [name, resolve(raw as Schema)] as const);
    const hasRequired = Array.isArray(schema.required) && schema.required.length > 0;
    let before: Record<string, string>;
    let n = 0;
    const body = () => validLooking(schema, `${op.operationId.toLowerCase()}-${++n}`);

    beforeAll(async () => {
      before = await snapshot(ctx.db);
    });

    it('refuses a body that is not valid JSON with 400 bad_request', async () => {
      const raws = [
        `{"${properties[0]?.[0] ?? 'a'}": "${SENTINEL}"`,
        `{'single': '${SENTINEL}'}`,
        `{"a": 1,}`,
        `${SENTINEL}`,
        `{"a": "\\x${SENTINEL}"}`,
        '',
      ];
      const problems = await sweep(
        op,
        raws.map((rawBody) => ({ name: `raw ${JSON.stringify(rawBody.slice(0, 30))}`, options: { rawBody }, status: 400, code: 'bad_request' })),
      );
      expect(problems).toEqual([]);
    });

    it('refuses __proto__ and constructor.prototype keys with 400 bad_request', async () => {
      const raws = [
        `{"__proto__": {"isAdmin": true, "x": "${SENTINEL}"}}`,
        `{"constructor": {"prototype": {"isAdmin": true, "x": "${SENTINEL}"}}}`,
      ];
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
        { name: 'unknown object field', options: { body: { ...body(), [UNKNOWN_FIELD]: { nested: SENTINEL } } }, status: 400, code: 'validation_failed', field: UNKNOWN_FIELD },
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
    if (hasRequired) it('rejects an empty object and a missing body with validation_failed', async () => {
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

    it('changes no row in any table', async () => {
      expect(await snapshot(ctx.db)).toEqual(before);
    });
  });

  describe.each(bodilessWriteOperations.map((op) => [`${op.method} ${op.path}`, op] as const))('%s (no request body)', (_, op) => {
    let before: Record<string, string>;

    beforeAll(async () => {
      before = await snapshot(ctx.db);
    });

    it('refuses a malformed or non-JSON body before the handler runs', async () => {
      const problems = await sweep(op, [
        { name: 'invalid JSON', options: { rawBody: `{"a": "${SENTINEL}"` }, status: 400, code: 'bad_request' },
        { name: 'text/plain', options: { rawBody: SENTINEL, contentType: 'text/plain' }, status: 415, code: 'unsupported_media_type' },
        { name: 'form', options: { rawBody: `a=${SENTINEL}`, contentType: 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
      ]);
      expect(problems).toEqual([]);
    });

    it('changes no row in any table', async () => {
      expect(await snapshot(ctx.db)).toEqual(before);
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
