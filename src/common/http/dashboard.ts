import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Paths that keep their own meaning: the API, its documents and the health probes are never the dashboard. */
export function isServerPath(url: string): boolean {
  const p = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/^\/+/, '/').split(/[?#]/, 1)[0];
  return ['/v1', '/docs', '/health', '/openapi.json'].some((prefix) => p === prefix || p.startsWith(`${prefix}/`) || p.startsWith(`${prefix}-`));
}

/**
 * Serves the built dashboard (web/dist) from the API's own process and port: its files as they are
 * (hashed assets cached for a year), and index.html for every other GET that is not a server path, so
 * that a deep link (/orgs/…/projects/…) loads the app. Nothing is served when the dashboard is not built.
 */
export async function serveDashboard(app: NestFastifyApplication, dir: string): Promise<boolean> {
  if (!existsSync(path.join(dir, 'index.html'))) return false;
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: false,
    setHeaders: (res, file) => {
      const hashed = file.includes(`${path.sep}assets${path.sep}`);
      res.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const fastify = app.getHttpAdapter().getInstance();
  const index = (request: FastifyRequest, reply: FastifyReply) => {
    if (isServerPath(request.url)) return reply.callNotFound();
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  };
  fastify.get('/', index);
  fastify.get('/*', index);
  return true;
}
