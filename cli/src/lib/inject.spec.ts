import { describe, expect, it } from '@jest/globals';
import { childEnv, isReserved, parseKeyList, selectSecrets } from './inject.js';

describe('what secr run injects', () => {
  it('reserves the process-identity and code-loading variables, by name and by prefix', () => {
    for (const key of ['PATH', 'HOME', 'NODE_OPTIONS', 'LC_ALL', 'LD_PRELOAD', 'DYLD_INSERT_LIBRARIES', 'BASH_ENV']) expect(isReserved(key)).toBe(true);
    for (const key of ['DATABASE_URL', 'PATHS', 'path', 'NODE_ENV', 'TZ']) expect(isReserved(key)).toBe(false);
  });

  it('leaves reserved names out with a warning that names the key, unless allowed', () => {
    const warnings: string[] = [];
    const { env, injected } = childEnv({ PATH: '/bin', KEEP: 'k' }, { PATH: 'secret-path', API: 'v' }, { warn: (m) => warnings.push(m) });
    expect(env).toEqual({ PATH: '/bin', KEEP: 'k', API: 'v' });
    expect(injected).toEqual(['API']);
    expect(warnings).toEqual(['secr: not setting PATH from the secret of that name: PATH is reserved (pass --allow-reserved to let secrets set it)']);
    expect(childEnv({ PATH: '/bin' }, { PATH: 'secret-path' }, { allowReserved: true, warn: () => undefined }).env.PATH).toBe('secret-path');
  });

  it('removes secr’s own credentials from the child’s environment unless --pass-token, while a secret of that name is still injected', () => {
    const base = { PATH: '/bin', SECR_TOKEN: 'secr_tok_parent', SECR_ID_TOKEN: 'jwt', SECR_OIDC: 'trust-id', SECR_ORG: 'acme' };
    const quiet = { warn: () => undefined };
    expect(childEnv(base, { API: 'v' }, quiet).env).toEqual({ PATH: '/bin', SECR_ORG: 'acme', API: 'v' });
    expect(childEnv(base, { API: 'v' }, { ...quiet, preserveEnv: true }).env).toEqual({ API: 'v', PATH: '/bin', SECR_ORG: 'acme' });
    expect(childEnv(base, { API: 'v' }, { ...quiet, passToken: true }).env).toEqual({ ...base, API: 'v' });
    // A token the environment stores on purpose (a deploy job's) is a selected secret, not the parent's credential.
    expect(childEnv(base, { SECR_TOKEN: 'secr_tok_stored' }, quiet).env.SECR_TOKEN).toBe('secr_tok_stored');
    expect(base.SECR_TOKEN).toBe('secr_tok_parent'); // the parent's own environment is not changed
  });

  it('parses key lists and selects by them', () => {
    expect(parseKeyList(' A, B ,', '--only')).toEqual(['A', 'B']);
    expect(() => parseKeyList('A,B-C', '--only')).toThrow("--only: not a key name: 'B-C'");
    expect(() => parseKeyList(',', '--only')).toThrow('needs at least one key name');
    expect(selectSecrets({ A: '1', B: '2', C: '3' }, { only: ['C', 'A'] })).toEqual({ C: '3', A: '1' });
    expect(selectSecrets({ A: '1', B: '2' }, { exclude: ['A', 'Z'] })).toEqual({ B: '2' });
    expect(() => selectSecrets({ A: '1' }, { only: ['A', 'Z'] })).toThrow('this environment does not have: Z');
  });
});
