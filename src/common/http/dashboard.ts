import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The dashboard's own pages (web/src/app.tsx), answered with index.html so that a deep link loads the
 * app. Listed rather than caught by one `/*`: a catch-all would also take the API's unknown or malformed
 * paths (/v1/…), which must keep their JSON answers (404, 414).
 */
export const DASHBOARD_PAGES = [
  '/',
  '/sign-in',
  '/sign-up',
  '/forgot-password',
  '/reset-password',
  '/verify-email',
  '/invite',
  '/cli-login',
  '/account',
  '/account/*',
  '/orgs',
  '/orgs/*',
  '/admin',
  '/admin/*',
];

/**
 * Serves the built dashboard (web/dist) from the API's own process and port: its files as they are
 * (hashed assets cached for a year), and index.html for its pages (DASHBOARD_PAGES), so that a deep
 * link (/orgs/…/projects/…) loads the app. Nothing is served when the dashboard is not built.
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
  const index = (_request: FastifyRequest, reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html');
  for (const page of DASHBOARD_PAGES) fastify.get(page, index);
  return true;
}
