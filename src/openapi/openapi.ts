import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { SESSION_COOKIE } from '../modules/auth/sessions.service.js';

const DESCRIPTION = `secr keeps a team's secrets encrypted, versioned, access-controlled and audited.

Authenticate with a bearer token (\`Authorization: Bearer secr_tok_…\`) or the \`${SESSION_COOKIE}\` session cookie.
Cookie-authenticated requests that change state must send \`X-Requested-With: secr\`.
Errors have the shape \`{ statusCode, code, message, requestId, errors? }\`.

**In Swagger UI** (this page sends \`X-Requested-With: secr\` on every request it makes): *Try it out* on
\`POST /v1/auth/login\` signs this browser in (the session cookie); \`POST /v1/auth/token\` then mints a token;
*Authorize* with it (bearerAuth) to call the API as that token.`;

/** The OpenAPI 3.1 document of the running code: served at /openapi.json and committed as openapi.json. */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('secr API')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'secr_tok_… / secr_cli_…', description: 'An API (secr_tok_…) or CLI (secr_cli_…) token' })
    .addCookieAuth(SESSION_COOKIE)
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (_controller, method) => method });
  return withErrorExamples(toOpenApi31(document));
}

const EXAMPLE_REQUEST_ID = '6f1c0d1e-7f0b-4c39-9b43-0f1f5b0a2f55';

/** An example body per error status (the schema's single example said 404 under every status). */
const ERROR_EXAMPLES: Record<string, { name: string; value: Record<string, unknown> }> = {
  '400': {
    name: 'BadRequestError',
    value: {
      statusCode: 400,
      code: 'validation_failed',
      message: 'Validation failed',
      errors: [{ field: 'key', message: 'key must match ^[A-Za-z_][A-Za-z0-9_]*$' }],
    },
  },
  '401': { name: 'UnauthorizedError', value: { statusCode: 401, code: 'unauthorized', message: 'Authentication required' } },
  '403': { name: 'ForbiddenError', value: { statusCode: 403, code: 'forbidden', message: 'Viewer role or no access to the project' } },
  '404': { name: 'NotFoundError', value: { statusCode: 404, code: 'not_found', message: "Environment 'qa' not found" } },
  '409': { name: 'ConflictError', value: { statusCode: 409, code: 'conflict', message: 'The address is already verified' } },
  '429': { name: 'RateLimitedError', value: { statusCode: 429, code: 'rate_limited', message: 'Too many requests; retry after 60 s' } },
  '503': { name: 'ServiceUnavailableError', value: { statusCode: 503, code: 'service_unavailable', message: 'The service is unavailable; retry later' } },
};

/** A response of the document, as far as the error examples need it. */
interface OpenApiResponse {
  content?: Record<string, { schema?: { $ref?: string }; examples?: Record<string, unknown> }>;
}

/**
 * Gives every error response that uses the error shape the example of its status, as a reference to
 * one shared example (components.examples): Swagger UI shows it, the document stays small.
 */
export function withErrorExamples(document: OpenAPIObject): OpenAPIObject {
  const used = new Set<string>();
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations as Record<string, { responses?: Record<string, OpenApiResponse> }>)) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        const json = response?.content?.['application/json'];
        const example = ERROR_EXAMPLES[status];
        if (!example || json?.schema?.$ref !== '#/components/schemas/ErrorResponseDto') continue;
        json.examples = { [example.name]: { $ref: `#/components/examples/${example.name}` } };
        used.add(status);
      }
    }
  }
  const examples = Object.fromEntries(
    [...used].sort().map((status) => {
      const { name, value } = ERROR_EXAMPLES[status];
      return [name, { summary: `${status} ${value.code}`, value: { ...value, requestId: EXAMPLE_REQUEST_ID } }];
    }),
  );
  document.components = { ...document.components, examples: { ...document.components?.examples, ...examples } };
  return document;
}

/**
 * @nestjs/swagger still emits the 3.0 `nullable: true`; OpenAPI 3.1 is JSON Schema 2020-12, where a
 * nullable value is a type array (with `null` added to an `enum`), or a `oneOf` with `null` for a
 * `$ref` (which @nestjs/swagger writes as `{ type: 'object', allOf: [{ $ref }] }` when it has siblings).
 */
export function toOpenApi31<T>(node: T): T {
  if (Array.isArray(node)) return node.map((item) => toOpenApi31(item)) as T;
  if (node === null || typeof node !== 'object') return node;
  // Only the boolean keyword: a property *named* `nullable` (an object under `properties`) is kept.
  const nullable = (node as Record<string, unknown>).nullable;
  const out: Record<string, unknown> = Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'nullable' && typeof v === 'boolean'))
      .map(([k, v]) => [k, toOpenApi31(v)]),
  );
  if (nullable !== true) return out as T;
  if (typeof out.$ref === 'string') {
    const { $ref, ...others } = out;
    return { ...others, oneOf: [{ $ref }, { type: 'null' }] } as T;
  }
  const allOf = out.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && typeof (allOf[0] as { $ref?: unknown }).$ref === 'string') {
    const { allOf: _allOf, type: _type, ...others } = out;
    return { ...others, oneOf: [allOf[0], { type: 'null' }] } as T;
  }
  const withNullInEnum = Array.isArray(out.enum) && !out.enum.includes(null) ? { enum: [...out.enum, null] } : {};
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'], ...withNullInEnum } as T;
  if (Array.isArray(out.type)) {
    return { ...out, type: out.type.includes('null') ? out.type : [...out.type, 'null'], ...withNullInEnum } as T;
  }
  // No type to extend (e.g. a bare oneOf): null becomes one more alternative.
  return { anyOf: [out, { type: 'null' }] } as T;
}

/**
 * Serves /openapi.json and Swagger UI at /docs. The document is built on the first request for either,
 * not at start-up: building it walks every route and DTO (about a second of CPU), which every boot of
 * the server (and of every test app) would otherwise pay.
 */
export function serveOpenApi(app: INestApplication, document: () => OpenAPIObject, withUi: boolean): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    ui: withUi,
    customSiteTitle: 'secr API',
    swaggerOptions: {
      persistAuthorization: true,
      // The CSRF header that cookie-authenticated mutations need (a cross-site page cannot send it;
      // this same-origin page can): a person signed in through POST /v1/auth/login can mint a token here.
      // Serialized into the page's script: no closure, no TypeScript.
      requestInterceptor: (request: { headers: Record<string, string> }) => {
        request.headers['X-Requested-With'] = 'secr';
        return request;
      },
    },
  });
}
