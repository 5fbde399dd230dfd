import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createToken, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, setSecret, type TestProject } from '../factories/vault.js';
import { startTestContext, type TestContext } from '../support/test-app.js';
import { findPython, pythonEnv, run } from './python.js';

const SDK_DIR = path.resolve('sdk-python');
const MINUTES = 60_000;

/**
 * The Python SDK (sdk-python/, secr-sdk) against a live server: its pytest suite, mypy --strict, and
 * the wheel built from the checkout, installed into a fresh virtual environment, running the spec's
 * quick start unchanged. Python and its packages are Debian's (see python.ts).
 */
describe('secr-sdk (Python)', () => {
  let python: string;
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let token: string;
  let readToken: string;

  beforeAll(async () => {
    python = findPython();
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'python');
    // The quick start names "my-org" and "my-project": a fresh database per test file has neither.
    const created = await ctx.api.post('/v1/orgs', { name: 'My Org', slug: 'my-org' }, { session: owner.session });
    if (created.status !== 201) throw new Error(`create org failed: ${created.status} ${created.text}`);
    org = { id: created.body.id, slug: created.body.slug };
    project = await createProject(ctx.api, owner, org, 'my-project');
    token = (await createToken(ctx.api, owner, { access: 'read_write', kind: 'cli' })).token;
    readToken = (await createToken(ctx.api, owner, { access: 'read' })).token;
  }, 3 * MINUTES);
  afterAll(() => ctx?.close());

  /**
   * The pytest run, once started. Its quick-start test and the wheel's run of the quick start below write
   * the same key (my-org/my-project/dev API_KEY), each removing it first to see its own write: the wheel's
   * quick start waits for pytest, so neither removes the key under the other's check.
   */
  let pytestRun: Promise<unknown> | undefined;

  // Three processes of their own that wait on each other for nothing (but the quick starts): they run concurrently.
  it.concurrent(
    'passes its pytest suite against the live server',
    async () => {
      const result = await (pytestRun = run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--rootdir', SDK_DIR, path.join(SDK_DIR, 'tests')], {
        cwd: SDK_DIR,
        env: pythonEnv({
          PYTHONPATH: path.join(SDK_DIR, 'src'),
          SECR_TEST_API_URL: ctx.api.baseUrl,
          SECR_TEST_TOKEN: token,
          SECR_TEST_READ_TOKEN: readToken,
          SECR_TEST_ORG: org.slug,
          SECR_TEST_ORG_ID: org.id,
        }),
        timeoutMs: 8 * MINUTES,
      }));
      const summary = result.stdout.trim().split('\n').pop() ?? '';
      expect({ exitCode: result.code, summary, output: result.code === 0 ? '' : result.output }).toEqual({ exitCode: 0, summary, output: '' });
      // Every test ran and passed: no "failed", "skipped" or "error" in pytest's closing line.
      expect(summary).toMatch(/^\d+ passed(, \d+ warnings?)? in /);
    },
    9 * MINUTES,
  );

  it.concurrent(
    'type-checks with mypy --strict for Python 3.9',
    async () => {
      // Kept between runs of this checkout (mypy checks its cache against the sources): a cold run
      // analyses httpx, pytest and the standard library's stubs, about 15 s of CPU; on a machine as loaded
      // as a developer's here can be, minutes (229 s of wall time for 10 s of CPU was seen).
      const cache = path.resolve('node_modules/.cache/secr-mypy');
      const probe = await run(python, ['-m', 'mypy', '--version']);
      if (probe.code !== 0) throw new Error(`mypy is not installed for ${python}: apt-get install mypy (as .ci/run does)`);
      // pyproject.toml sets strict and python_version = 3.9; --strict again in case it is not read.
      const result = await run(python, ['-m', 'mypy', '--strict', '--python-version', '3.9', '--cache-dir', cache, 'src', 'tests', 'bench'], {
        cwd: SDK_DIR,
        env: pythonEnv({}),
        timeoutMs: 9 * MINUTES,
      });
      expect({ exitCode: result.code, output: result.output.trim() }).toEqual({ exitCode: 0, output: expect.stringMatching(/^Success: no issues found/) });
    },
    10 * MINUTES,
  );

  it.concurrent(
    'builds a wheel and an sdist, installs the wheel into a fresh virtual environment, and runs the quick start there unchanged',
    async () => {
      const work = mkdtempSync(path.join(tmpdir(), 'secr-python-sdk-'));
      try {
        // Build from a copy, so that the build's egg-info and build/ never land in the checkout.
        const source = path.join(work, 'sdk-python');
        cpSync(SDK_DIR, source, { recursive: true, filter: (p) => !/(__pycache__|\.egg-info|\/build|\/dist|_cache)$/.test(p) });
        const dist = path.join(work, 'dist');
        const env = pythonEnv({});
        const built = await run(python, ['-m', 'build', '--no-isolation', '--sdist', '--wheel', '--outdir', dist, source], { env, timeoutMs: 6 * MINUTES });
        expect({ exitCode: built.code, output: built.code === 0 ? '' : built.output }).toEqual({ exitCode: 0, output: '' });
        const files = readdirSync(dist).sort();
        const wheel = files.find((f) => /^secr_sdk-0\.1\.0-py3-none-any\.whl$/.test(f));
        const sdist = files.find((f) => /^secr[-_]sdk-0\.1\.0\.tar\.gz$/.test(f));
        expect({ wheel: !!wheel, sdist: !!sdist, files }).toEqual({ wheel: true, sdist: true, files });

        const listing = await run(
          python,
          [
            '-c',
            'import sys, tarfile, zipfile\n' +
              'w = zipfile.ZipFile(sys.argv[1]); print("\\n".join(w.namelist()))\n' +
              'print("\\n".join(n for n in w.namelist() if n.endswith("METADATA")) and w.read([n for n in w.namelist() if n.endswith("METADATA")][0]).decode())\n' +
              'print("\\n".join(tarfile.open(sys.argv[2]).getnames()))',
            path.join(dist, wheel!),
            path.join(dist, sdist!),
          ],
          { env },
        );
        expect(listing.code).toBe(0);
        const lines = listing.stdout.split('\n');
        for (const file of ['secr/__init__.py', 'secr/_client.py', 'secr/_core.py', 'secr/_types.py', 'secr/_errors.py', 'secr/py.typed']) {
          expect(lines).toContain(file);
        }
        expect(lines).toEqual(expect.arrayContaining(['Name: secr-sdk', 'Version: 0.1.0', 'Requires-Python: >=3.9', 'Requires-Dist: httpx (<1,>=0.23)']));
        expect(lines.filter((l) => l.startsWith('secr/') && l.includes('test'))).toEqual([]);
        for (const file of ['pyproject.toml', 'README.md', 'src/secr/py.typed', 'src/secr/__init__.py']) {
          expect(lines).toContain(`${sdist!.replace(/\.tar\.gz$/, '')}/${file}`);
        }

        // A fresh venv that sees Debian's httpx (no index: the dependency must already be satisfied). Without
        // a pip of its own (ensurepip installing one cost ~5 s of CPU): the venv's python runs the pip it
        // sees in the system's site-packages, which installs into the venv (sys.prefix), as its own would.
        const venv = path.join(work, 'venv');
        expect((await run(python, ['-m', 'venv', '--system-site-packages', '--without-pip', venv], { env })).code).toBe(0);
        const venvPython = path.join(venv, 'bin', 'python');
        const installed = await run(venvPython, ['-m', 'pip', 'install', '--no-index', '--no-cache-dir', '-q', path.join(dist, wheel!)], {
          env,
          timeoutMs: 3 * MINUTES,
        });
        expect({ exitCode: installed.code, output: installed.code === 0 ? '' : installed.output }).toEqual({ exitCode: 0, output: '' });
        const imported = await run(venvPython, ['-I', '-c', 'import secr; print(secr.__file__); print(secr.__version__)'], { cwd: work, env });
        const [file, version] = imported.stdout.trim().split('\n');
        expect({ inVenv: file.startsWith(venv), version }).toEqual({ inVenv: true, version: '0.1.0' });

        await setSecret(ctx.api, { token }, org, project, 'production', { key: 'DATABASE_URL', value: 'postgres://quick@db/start' });
        // Setting a key to its current value writes nothing: without API_KEY, it is there after the run only
        // if this quick start wrote it (pytest's, which removes it too, has finished).
        await pytestRun?.catch(() => undefined);
        const removed = await ctx.api.delete(`/v1/secrets/${org.slug}/${project.slug}/dev/API_KEY`, { token });
        expect([200, 404]).toContain(removed.status);
        const quickstart = await run(venvPython, ['-I', path.join(source, 'tests', 'quickstart.py')], {
          cwd: work,
          env: { ...env, SECR_API_URL: ctx.api.baseUrl, SECR_TEST_TOKEN: token },
          timeoutMs: 2 * MINUTES,
        });
        expect({ exitCode: quickstart.code, output: quickstart.code === 0 ? '' : quickstart.output }).toEqual({ exitCode: 0, output: '' });
        expect(quickstart.stdout.split('\n')).toContain('DATABASE_URL=postgres://quick@db/start');
        const dev = await ctx.api.get(`/v1/secrets/${org.slug}/${project.slug}/dev`, { token });
        expect(dev.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value])).toContainEqual(['API_KEY', 'sk-...']);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    10 * MINUTES,
  );
});
