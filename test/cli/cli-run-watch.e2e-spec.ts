import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, setSecret, type TestProject } from '../factories/vault.js';
import { collect, createCliSandbox, removeCliSandboxes, type CliSandbox } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/**
 * The child: appends `{ pid, value }` to $OUT_FILE when it starts, and `term <pid>` when it gets
 * SIGTERM (then exits 7), unless IGNORE_TERM is set (then only SIGKILL ends it).
 */
const CHILD = `const fs = require('fs');
fs.appendFileSync(process.env.OUT_FILE, JSON.stringify({ pid: process.pid, value: process.env.WATCHED }) + '\\n');
process.on('SIGTERM', () => { if (process.env.IGNORE_TERM) return; fs.appendFileSync(process.env.OUT_FILE, 'term ' + process.pid + '\\n'); process.exit(7); });
setInterval(() => {}, 1000);`;

/** Issue 18: `secr run --watch` restarts a real child process when the environment changes. */
describe('secr run --watch (built binary, real server)', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let cli: CliSandbox;
  let n = 0;

  beforeAll(async () => {
    ctx = await startTestContext({ STREAM_HEARTBEAT_MS: '1000' });
    owner = await registerUser(ctx.api, 'watcher');
    org = await createOrg(ctx.api, owner, 'Watch');
    cli = await createCliSandbox(ctx.api.baseUrl);
    const { token } = await createToken(ctx.api, owner, { access: 'read', kind: 'cli' });
    cli.env.SECR_TOKEN = token;
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  /** A project of its own, WATCHED set to `first`, and a file for the child's lines. */
  async function setUp(): Promise<{ project: TestProject; out: string; set: (value: string) => Promise<number> }> {
    const project = await createProject(ctx.api, owner, org);
    const set = (value: string) => setSecret(ctx.api, { session: owner.session }, org, project, 'development', { key: 'WATCHED', value });
    await set('first');
    const out = path.join(cli.workDir, `child-${++n}.log`);
    return { project, out, set };
  }

  const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  const starts = (file: string) =>
    lines(file)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { pid: number; value: string });

  async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // polling a file, with a deadline
    }
  }

  const watchArgs = (project: TestProject, ...flags: string[]) => [
    'run',
    '--org',
    org.slug,
    '--project',
    project.slug,
    '--env',
    'development',
    '--watch',
    ...flags,
    '--',
    process.execPath,
    '-e',
    CHILD,
  ];

  it.concurrent('restarts the child with the new value on a change (SIGTERM first), and forwards a signal to secr as without --watch', async () => {
    const { project, out, set } = await setUp();
    const secr = cli.spawn(watchArgs(project, '--watch-debounce', '100ms'), { env: { OUT_FILE: out } });
    const done = collect(secr, 60_000);
    const [first] = await until('the first start', () => starts(out).length === 1 && starts(out));
    expect(first.value).toBe('first');

    await set('second');
    const second = await until('a restart', () => starts(out)[1]);
    expect(second).toEqual({ pid: expect.any(Number), value: 'second' });
    expect(second.pid).not.toBe(first.pid);
    expect(lines(out)).toContain(`term ${first.pid}`); // stopped with the watch signal, not killed

    secr.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(7); // the child's own exit code, as without --watch
    expect(lines(out).at(-1)).toBe(`term ${second.pid}`);
    expect(result.stderr).toContain('restarting');
    expect(result.stderr + result.stdout).not.toContain('second'); // values never printed
  });

  it.concurrent('restarts once for a burst of changes', async () => {
    const { project, out, set } = await setUp();
    const secr = cli.spawn(watchArgs(project, '--watch-debounce', '1500ms'), { env: { OUT_FILE: out } });
    const done = collect(secr, 60_000);
    await until('the first start', () => starts(out).length === 1);
    for (let i = 1; i <= 5; i++) await set(`burst-${i}`);
    const restarted = await until('the restart after the burst', () => starts(out)[1]);
    expect(restarted.value).toBe('burst-5');
    // One more change, well after the burst: the third start is the next one, so the burst made exactly one.
    await set('after');
    await until('the restart after the next change', () => starts(out)[2]);
    expect(starts(out).map((s) => s.value)).toEqual(['first', 'burst-5', 'after']);
    secr.kill('SIGINT');
    await done;
  });

  it.concurrent(
    'kills a child that ignores the watch signal after the grace period, starts it again, and exits 128 + n when a forwarded signal ends it',
    async () => {
      const { project, out, set } = await setUp();
      const secr = cli.spawn(watchArgs(project, '--watch-debounce', '100ms', '--watch-grace', '300ms'), { env: { OUT_FILE: out, IGNORE_TERM: '1' } });
      const done = collect(secr, 60_000);
      const [first] = await until('the first start', () => starts(out).length === 1 && starts(out));
      await set('second');
      const second = await until('a restart', () => starts(out)[1]);
      expect(second.value).toBe('second');
      expect(() => process.kill(first.pid, 0)).toThrow(); // gone (SIGKILL)
      // SIGINT is forwarded; the child does not handle it, so it dies of it and secr exits 128 + 2.
      secr.kill('SIGINT');
      expect((await done).code).toBe(128 + 2);
    },
  );

  it.concurrent('exits with the child’s exit code when the child exits on its own', async () => {
    const { project } = await setUp();
    const args = watchArgs(project).slice(0, -1).concat('process.exit(3)');
    expect((await cli.run(args, { timeoutMs: 30_000 })).code).toBe(3);
  });

  it.concurrent('refuses a signal it cannot use to stop the child', async () => {
    const { project } = await setUp();
    const result = await cli.run(watchArgs(project, '--watch-signal', 'SIGKILL'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--watch-signal/);
  });
});
