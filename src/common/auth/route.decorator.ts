import { applyDecorators, HttpCode, SetMetadata, Type } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../errors/error-response.dto.js';
import { Permission, PERMISSION_INFO } from './permissions.js';

export const ROUTE_METADATA = 'secr:route';

interface BaseRoute {
  summary: string;
  /** Success status; defaults to 200 (201/204 where given). */
  status?: 200 | 201 | 202 | 204;
  /** Response body type for the OpenAPI document; omit for 204. */
  response?: Type<unknown> | [Type<unknown>];
}

export interface PublicRoute extends BaseRoute {
  public: true;
}

export interface ProtectedRoute extends BaseRoute {
  permission: Permission;
  /** Route parameter that names the org for org-scoped permissions: an id or a slug. */
  org?: { param: string; by: 'id' | 'slug' };
}

export type RouteOptions = PublicRoute | ProtectedRoute;

const DEFAULT_ORG = { param: 'orgId', by: 'id' } as const;

/**
 * The one decorator on every route: its OpenAPI description and its access rule together.
 * `AuthGuard` is global and deny-by-default, so a handler without `@Route` is refused.
 */
export function Route(options: RouteOptions): MethodDecorator {
  const status = options.status ?? 200;
  const rule = 'public' in options ? options : { ...options, org: options.org ?? DEFAULT_ORG };
  const decorators = [
    SetMetadata(ROUTE_METADATA, rule),
    HttpCode(status),
    ApiOperation({ summary: options.summary }),
    ApiResponse({ status, type: options.response, description: 'Success' }),
    ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid input' }),
  ];
  if (!('public' in options)) {
    decorators.push(
      ApiBearerAuth(),
      ApiCookieAuth(),
      ApiResponse({ status: 401, type: ErrorResponseDto, description: 'Not signed in, or the credential is invalid' }),
      ApiResponse({ status: 403, type: ErrorResponseDto, description: 'Not allowed for this identity' }),
    );
    if (PERMISSION_INFO[options.permission].scope === 'org') {
      const org = options.org ?? DEFAULT_ORG;
      decorators.push(
        ApiParam({ name: org.param, description: `The org's ${org.by}`, schema: { type: 'string', ...(org.by === 'id' ? { format: 'uuid' } : {}) } }),
        ApiResponse({ status: 404, type: ErrorResponseDto, description: 'Not found' }),
      );
    }
  }
  return applyDecorators(...decorators);
}
