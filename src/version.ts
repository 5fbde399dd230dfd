import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest package.json above this file: the same from src/ (tests) and dist/src/ (built). */
function findPackageJson(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error('package.json not found');
  }
}

/** The package version, for the OpenAPI document. */
export const APP_VERSION: string = JSON.parse(readFileSync(findPackageJson(path.dirname(fileURLToPath(import.meta.url))), 'utf8')).version;
