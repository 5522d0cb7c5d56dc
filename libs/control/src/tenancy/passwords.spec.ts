import { hashPassword, passwordMatches } from './passwords';

describe('password hashes', () => {
  it('are Argon2id with OWASP parameters, salted, and verify only the password they were made from', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
    expect(await passwordMatches(a, 'correct horse battery')).toBe(true);
    expect(await passwordMatches(a, 'correct horse batter')).toBe(false);
  });

  it('matches nothing without a stored hash, and nothing against a malformed one', async () => {
    expect(await passwordMatches(null, 'anything at all')).toBe(false);
    expect(await passwordMatches('not-a-phc-string', 'anything at all')).toBe(false);
  });
});
