import { describe, expect, it } from '@jest/globals';
import { passwordProblem } from './password-policy.js';

const EMAIL = 'ada.lovelace@example.com';

describe('password policy (NIST SP 800-63B)', () => {
  it.each([
    ['only spaces', '            ', /only spaces/],
    ['only spaces and tabs', ' \t  \t   \t ', /only spaces/],
    ['one character repeated', 'aaaaaaaaaaaa', /one character repeated/],
    ['a short pattern repeated', 'abcabcabcabc', /short pattern repeated/],
    ['digits repeated', '1212121212', /short pattern repeated/],
    ['an alphabet run', 'abcdefghijkl', /simple sequence/],
    ['a digit run', '0123456789', /simple sequence/],
    ['a descending run', '9876543210', /simple sequence/],
    ['a keyboard row', 'qwertyuiop', /simple sequence/],
    ['the email address', EMAIL, /email address/],
    ['the email address, shouting', EMAIL.toUpperCase(), /email address/],
    ['the local part', 'ada.lovelace', /email address/],
    ['the local part with digits', 'ada.lovelace1984', /email address/],
    ["the service's name with digits", 'secr12345678', /service's name/],
    ['a common password', 'iloveyou123', /too common/],
    ['a common password with digits appended', 'password12', /too common/],
    ['a common password with a symbol appended', 'baseball!!', /too common/],
    ['a common password in capitals', 'SUPERMAN123', /too common/],
  ])('refuses %s', async (_what, password, expected) => {
    expect(await passwordProblem(password, EMAIL)).toMatch(expected);
  });

  it.each([
    ['a passphrase', 'correct horse battery'],
    ['a passphrase with capitals', 'Correct Horse Battery Staple'],
    ['a mixed password', 'Pa55word-that-must-not-leak'],
    ['a long random one', 'v8#Kq2!zLw9@rT4$'],
    ['non-Latin letters', 'пароль-на-кириллице'],
    ['a passphrase that mentions the name', 'ada writes great programs'],
  ])('accepts %s', async (_what, password) => {
    expect(await passwordProblem(password, EMAIL)).toBeNull();
  });

  it('never puts the password in its message', async () => {
    for (const password of ['password12', EMAIL, 'aaaaaaaaaaaa']) {
      expect(await passwordProblem(password, EMAIL)).not.toContain(password);
    }
  });
});
