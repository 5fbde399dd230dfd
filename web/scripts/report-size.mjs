/**
 * Prints the gzipped size of the JavaScript the first page loads (the scripts index.html names and
 * the chunks they import statically), and fails the build above the budget of issue 14 (250 KB).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 250 * 1024;
const dist = path.resolve(import.meta.dirname, '../dist');
const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
const entries = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/?([^"]+\.js)"/g)].map((m) => m[1]);
const seen = new Set();
const visit = (file) => {
  if (seen.has(file)) return;
  seen.add(file);
  const code = readFileSync(path.join(dist, file), 'utf8');
  for (const m of code.matchAll(/(?:^|[;\n}])\s*import\s*(?:[^'"()]*?from\s*)?["']\.\/([^"']+\.js)["']/g))
    visit(path.posix.join(path.posix.dirname(file), m[1]));
};
entries.forEach(visit);
let raw = 0;
let gzip = 0;
for (const file of seen) {
  const bytes = readFileSync(path.join(dist, file));
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`dashboard first-page JS: ${kb(gzip)} gzipped (${kb(raw)} raw, ${seen.size} file(s)); budget ${kb(BUDGET)}`);
if (gzip > BUDGET) {
  console.error("dashboard: the first page's JavaScript is over its budget");
  process.exit(1);
}
