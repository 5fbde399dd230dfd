import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The dashboard's policy, and the API's: scripts only from this origin (no inline script, no eval),
 * requests only to this origin, no framing. Styles allow inline attributes: the component library sets
 * element styles (positions of popovers, CSS variables) from script, which is not a way to run code.
 */
const STRICT: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
};

/** Swagger UI at /docs runs an inline bootstrap script and inline styles. */
const DOCS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      upgradeInsecureRequests: null,
    },
  },
};

/**
 * helmet's security headers, worked out once. They do not depend on the request, and
 * `@fastify/helmet` rebuilds helmet's middleware (parsing the CSP directives) on every request —
 * measurable on the pull path — so the app sets this fixed set from one hook instead.
 * `docs` = the set for Swagger UI (/docs), which needs inline script.
 */
export function securityHeaders(kind: 'strict' | 'docs' = 'strict'): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(kind === 'docs' ? DOCS : STRICT)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return Object.freeze(headers);
}
