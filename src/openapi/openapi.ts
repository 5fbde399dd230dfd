import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { SESSION_COOKIE } from '../modules/auth/sessions.service.js';

const DESCRIPTION = `secr keeps a team's secrets encrypted, versioned, access-controlled and audited.

Authenticate with a bearer token (\`Authorization: Bearer secr_tok_…\`) or the \`${SESSION_COOKIE}\` session cookie.
Cookie-authenticated requests that change state must send \`X-Requested-With: secr\`.
Errors have the shape \`{ statusCode, code, message, requestId, errors? }\`.`;

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
  return toOpenApi31(document);
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
    swaggerOptions: { persistAuthorization: true },
  });
}
