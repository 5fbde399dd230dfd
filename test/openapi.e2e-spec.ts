/**
 * The API's OpenAPI 3.1 document and Swagger UI (DESIGN.md §2): served at /openapi.json and /docs,
 * committed as openapi.json, and complete enough to generate the API client from.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common/enums/request-method.enum.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ModulesContainer } from '@nestjs/core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { readFile } from 'node:fs/promises';
import { ROUTE_METADATA, type RouteOptions } from '../src/common/auth/route.decorator.js';
import { SESSION_COOKIE } from '../src/modules/auth/sessions.service.js';
import { renderOpenApi } from '../src/openapi/write-openapi.js';
import { registerUser } from './factories/accounts.js';
import { startInProcessTestContext as startTestContext, type InProcessTestContext as TestContext } from './support/in-process-app.js';

type Json = Record<string, any>;

interface Handler {
  /** e.g. `POST /v1/orgs/{orgId}` as the document names it. */
  key: string;
  controller: string;
  method: string;
  hasBody: boolean;
  isPublic: boolean;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function operationsOf(document: Json): { key: string; method: string; path: string; op: Json }[] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method, path, op: op as Json })),
  );
}

/** Every value in a JSON tree, with its path, for document-wide checks. */
function* walk(node: unknown, path = '$'): Generator<[string, string, unknown]> {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* walk(item, `${path}[${i}]`);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      yield [`${path}.${k}`, k, v];
      yield* walk(v, `${path}.${k}`);
    }
  }
}

describe('OpenAPI document and Swagger UI', () => {
  let ctx: TestContext;
  let document: Json;
  let handlers: Handler[];

  /** The document as `npm run openapi` renders it, without a database: rendered once, for the two tests that read it. */
  let rendering: Promise<string> | undefined;
  const rendered = () => (rendering ??= renderOpenApi());

  const resolveRef = (ref: string): Json | undefined => {
    const [, kind, name] = /^#\/components\/(schemas|examples)\/(.+)$/.exec(ref) ?? [];
    return kind ? document.components?.[kind]?.[name] : undefined;
  };

  beforeAll(async () => {
    ctx = await startTestContext();
    const res = await ctx.api.get('/openapi.json');
    if (res.status !== 200) throw new Error(`GET /openapi.json: ${res.status}`);
    document = res.body;
    handlers = routeHandlers(ctx.instances[0].app.get(ModulesContainer), document);
  });
  afterAll(() => ctx.close());

  it('serves an OpenAPI 3.1.0 JSON document at /openapi.json', async () => {
    const res = await ctx.api.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.info).toMatchObject({ title: 'secr API', version: expect.any(String) });
  });

  it('validates against the OpenAPI 3.1 schema', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has no 3.0 nullable keyword left anywhere (3.1 uses type arrays)', () => {
    const found = [...walk(document)].filter(([, key, value]) => key === 'nullable' && typeof value === 'boolean').map(([path]) => path);
    expect(found).toEqual([]);
    // The nullable fields that exist are expressed the 3.1 way.
    expect(document.components.schemas.TokenDto.properties.orgId.type).toEqual(['string', 'null']);
  });

  it('resolves every $ref to a schema of the document', () => {
    const dangling = [...walk(document)]
      .filter(([, key, value]) => key === '$ref' && (typeof value !== 'string' || !resolveRef(value)))
      .map(([path, , value]) => `${path} → ${String(value)}`);
    expect(dangling).toEqual([]);
  });

  it('documents every route of the app, and nothing else', () => {
    expect(handlers.length).toBeGreaterThan(0);
    expect(
      operationsOf(document)
        .map((o) => o.key)
        .sort(),
    ).toEqual(handlers.map((h) => h.key).sort());
  });

  it('names every operation after its controller method, uniquely', () => {
    const mismatched = handlers
      .map((h) => ({ h, op: operationsOf(document).find((o) => o.key === h.key)?.op }))
      .filter(({ h, op }) => op?.operationId !== h.method)
      .map(({ h, op }) => `${h.key}: operationId ${String(op?.operationId)}, method ${h.controller}.${h.method}`);
    expect(mismatched).toEqual([]);

    const ids = operationsOf(document).map((o) => o.op.operationId);
    const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(duplicates).toEqual([]);
  });

  it('gives every operation a summary and a tag', () => {
    const missing = operationsOf(document)
      .filter(({ op }) => typeof op.summary !== 'string' || op.summary.trim() === '' || !op.tags?.length)
      .map((o) => o.key);
    expect(missing).toEqual([]);
  });

  it('gives every operation exactly one success response, with a JSON schema unless it is a 204 or an event stream', () => {
    const problems = operationsOf(document).flatMap(({ key, op }) => {
      const success = Object.keys(op.responses ?? {}).filter((status) => /^2\d\d$/.test(status));
      if (success.length !== 1) return [`${key}: success responses ${success.join(', ') || 'none'}`];
      const response = op.responses[success[0]];
      // A streamed export (GET /v1/audit/{orgId}/export) documents its NDJSON lines instead of a JSON body.
      const schema = response.content?.['application/json']?.schema ?? response.content?.['application/x-ndjson']?.schema;
      if (success[0] === '204') return response.content ? [`${key}: a 204 with content`] : [];
      // A stream of Server-Sent Events (the change stream) is text, described event by event in prose.
      if (response.content?.['text/event-stream'] && Object.keys(response.content).length === 1) return [];
      if (!schema) return [`${key}: ${success[0]} without an application/json schema`];
      const target = schema.$ref ? resolveRef(schema.$ref) : schema;
      if (!target || (target.type === 'object' && !target.properties)) return [`${key}: ${success[0]} schema has no properties`];
      return [];
    });
    expect(problems).toEqual([]);
  });

  it('documents errors with the error shape of DESIGN.md §6', () => {
    const error = document.components.schemas.ErrorResponseDto;
    expect(error.required).toEqual(expect.arrayContaining(['statusCode', 'code', 'message', 'requestId']));
    expect(error.properties.code.enum).toEqual(
      expect.arrayContaining([
        'bad_request',
        'validation_failed',
        'unauthorized',
        'forbidden',
        'not_found',
        'conflict',
        'plan_limit_exceeded',
        'rate_limited',
        'internal_error',
      ]),
    );
    const problems = operationsOf(document).flatMap(({ key, op }) =>
      Object.entries(op.responses as Json)
        .filter(([status]) => /^[45]\d\d$/.test(status))
        .filter(([, response]) => response.content?.['application/json']?.schema?.$ref !== '#/components/schemas/ErrorResponseDto')
        .map(([status]) => `${key}: ${status} is not an ErrorResponseDto`),
    );
    expect(problems).toEqual([]);
    const withoutBadRequest = operationsOf(document)
      .filter(({ op }) => !op.responses['400'])
      .map((o) => o.key);
    expect(withoutBadRequest).toEqual([]);
  });

  it('gives every error response an example of its own status and a code of the error shape', () => {
    const codes: string[] = document.components.schemas.ErrorResponseDto.properties.code.enum;
    const problems = operationsOf(document).flatMap(({ key, op }) =>
      Object.entries(op.responses as Json)
        .filter(([status]) => /^[45]\d\d$/.test(status))
        .map(([status, response]) => {
          const examples = Object.values(response.content['application/json'].examples ?? {}) as Json[];
          return [status, examples.length === 1 ? resolveRef(examples[0].$ref)?.value : undefined] as const;
        })
        .filter(([status, example]) => example?.statusCode !== Number(status) || !codes.includes(example?.code) || typeof example?.requestId !== 'string')
        .map(([status, example]) => `${key}: ${status} has example ${JSON.stringify(example)}`),
    );
    expect(problems).toEqual([]);
  });

  it('gives every operation that takes a body a required JSON requestBody with an object schema', () => {
    const problems = handlers.flatMap((h) => {
      const op = operationsOf(document).find((o) => o.key === h.key)!.op;
      if (!h.hasBody) return op.requestBody ? [`${h.key}: a requestBody but no @Body()`] : [];
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (!schema) return [`${h.key}: @Body() but no application/json requestBody schema`];
      if (op.requestBody.required !== true) return [`${h.key}: requestBody not required`];
      const target = schema.$ref ? resolveRef(schema.$ref) : schema;
      if (target?.type !== 'object' || !target.properties || Object.keys(target.properties).length === 0) {
        return [`${h.key}: requestBody schema has no properties`];
      }
      return [];
    });
    expect(problems).toEqual([]);
  });

  it('declares bearer and session-cookie security schemes and lists both on every protected operation', () => {
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.components.securitySchemes.cookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: SESSION_COOKIE });

    const problems = handlers.flatMap((h) => {
      const op = operationsOf(document).find((o) => o.key === h.key)!.op;
      const schemes = (op.security ?? []).flatMap((requirement: Json) => Object.keys(requirement)).sort();
      if (h.isPublic) return op.security?.length ? [`${h.key}: public but lists security ${schemes.join(', ')}`] : [];
      const problems: string[] = [];
      if (schemes.join(',') !== 'bearer,cookie') problems.push(`${h.key}: security ${schemes.join(', ') || 'none'}`);
      if (!op.responses['401'] || !op.responses['403']) problems.push(`${h.key}: protected without 401 and 403 responses`);
      return problems;
    });
    expect(problems).toEqual([]);
    expect(handlers.some((h) => h.isPublic)).toBe(true);
    expect(handlers.some((h) => !h.isPublic)).toBe(true);
  });

  it('documents every path parameter of every operation', () => {
    const problems = operationsOf(document).flatMap(({ key, path, op }) => {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const documented = (op.parameters ?? [])
        .filter((p: Json) => p.in === 'path')
        .map((p: Json) => p.name)
        .sort();
      return inPath.join(',') === documented.join(',') ? [] : [`${key}: path has ${inPath.join(', ')}, documented ${documented.join(', ')}`];
    });
    expect(problems).toEqual([]);
  });

  it('serves Swagger UI at /docs, with its assets, and the Authorize dialog remembers a bearer token', async () => {
    let page = new URL('/docs', ctx.api.baseUrl);
    let res = await ctx.api.get(page.pathname);
    if (res.status >= 300 && res.status < 400) {
      page = new URL(res.headers.get('location')!, page);
      res = await ctx.api.get(page.pathname);
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('<div id="swagger-ui">');
    expect(res.text).toContain('<title>secr API</title>');

    // Every script and stylesheet of the page loads from this server (helmet's CSP allows 'self' only).
    const assets = [...res.text.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets).toEqual(expect.arrayContaining([expect.stringMatching(/swagger-ui-bundle\.js$/), expect.stringMatching(/swagger-ui-init\.js$/)]));
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const loaded = await ctx.api.get(new URL(asset, page).pathname);
      expect({ asset, status: loaded.status }).toEqual({ asset, status: 200 });
    }
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);

    // The page's bootstrap carries the document with its security schemes, and persists authorization.
    const initPath = assets.find((a) => a.endsWith('swagger-ui-init.js'))!;
    const init = await ctx.api.get(new URL(initPath, page).pathname);
    expect(init.text).toMatch(/"persistAuthorization":\s*true/);
    expect(init.text).toMatch(/"securitySchemes"/);
    expect(init.text).toMatch(/"scheme":\s*"bearer"/);
  });

  it('lets a person signed in from Swagger UI mint a token there: the page sends the CSRF header itself', async () => {
    const page = await ctx.api.get('/docs/swagger-ui-init.js');
    const source = /"requestInterceptor":\s*(\([\s\S]*?\n\s*\})/.exec(page.text)?.[1];
    expect(source).toBeDefined();
    const intercept = new Function(`return ${source}`)() as (request: { headers: Record<string, string> }) => { headers: Record<string, string> };

    // What the page does: POST /v1/auth/login (the browser keeps the cookie), then POST /v1/auth/token.
    const user = await registerUser(ctx.api, 'swagger');
    const { headers } = intercept({ headers: { cookie: `${SESSION_COOKIE}=${user.session}`, 'content-type': 'application/json' } });
    const minted = await fetch(`${ctx.api.baseUrl}/v1/auth/token`, { method: 'POST', headers, body: JSON.stringify({ name: 'from /docs', access: 'read' }) });
    expect(minted.status).toBe(201);
    const { token } = (await minted.json()) as { token: string };
    expect((await ctx.api.get('/v1/auth/me', { token })).status).toBe(200);
  });

  it('renders the same document without a database as the running app serves', async () => {
    // renderOpenApi builds the app in Nest's preview mode with an unreachable database URL: it
    // instantiates no provider, so it can only succeed without a database.
    expect(JSON.parse(await rendered())).toEqual(document);
  });

  it('has the committed openapi.json in sync with the code', async () => {
    const committed = await readFile(new URL('../openapi.json', import.meta.url), 'utf8');
    const code = await rendered();
    if (committed !== code) {
      const a = committed.split('\n');
      const b = code.split('\n');
      const line = a.findIndex((text, i) => text !== b[i]);
      throw new Error(
        'openapi.json is out of date with the code: run `npm run openapi` and commit the result.\n' +
          `First difference at line ${line + 1}:\n  committed: ${a[line] ?? '(end of file)'}\n  code:      ${b[line] ?? '(end of file)'}`,
      );
    }
  });
});

/** The route handlers registered in the app, from Nest's own metadata, keyed the way the document names them. */
function routeHandlers(modules: ModulesContainer, document: Json): Handler[] {
  const documented = new Set(operationsOf(document).map((o) => o.key));
  const handlers: Handler[] = [];
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const fn = controller.prototype[name];
        if (name === 'constructor' || typeof fn !== 'function' || Reflect.getMetadata(METHOD_METADATA, fn) === undefined) continue;
        const verb = RequestMethod[Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod];
        const sub = String(Reflect.getMetadata(PATH_METADATA, fn) ?? '');
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/').replace(/:(\w+)/g, '{$1}');
        // The global prefix /v1 applies to every route but the unversioned health probes.
        const key = [`${verb} /v1${path === '/' ? '' : path}`, `${verb} ${path}`].find((k) => documented.has(k)) ?? `${verb} /v1${path}`;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, unknown>;
        const route = Reflect.getMetadata(ROUTE_METADATA, fn) as RouteOptions | undefined;
        handlers.push({
          key,
          controller: controller.name,
          method: name,
          hasBody: Object.keys(args).some((k) => Number(k.split(':')[0]) === RouteParamtypes.BODY),
          isPublic: route !== undefined && 'public' in route,
        });
      }
    }
  }
  return handlers;
}
