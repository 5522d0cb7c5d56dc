import { afterFailedLogin, checkPassword } from './passwords';

describe('checkPassword', () => {
  it('takes 10 to 256 characters, counted as characters, not bytes', () => {
    expect(checkPassword('correct horse')).toEqual({ ok: true, value: 'correct horse' });
    expect(checkPassword('é'.repeat(256)).ok).toBe(true);
    expect(checkPassword('é'.repeat(257))).toMatchObject({
      ok: false,
      errors: [{ field: 'password', rule: 'length' }],
    });
    expect(checkPassword('123456789')).toMatchObject({ ok: false, errors: [{ rule: 'length' }] });
  });

  it('refuses a blank password and anything not a string, naming the field asked for', () => {
    expect(checkPassword(' '.repeat(12), 'newPassword')).toMatchObject({
      ok: false,
      errors: [{ field: 'newPassword', rule: 'notBlank' }],
    });
    expect(checkPassword(1234567890)).toMatchObject({ ok: false, errors: [{ rule: 'isString' }] });
    expect(checkPassword(null)).toMatchObject({ ok: false, errors: [{ rule: 'isString' }] });
  });
});

describe('afterFailedLogin', () => {
  const now = new Date('2026-12-07T03:00:00Z');
  const policy = { maxFailures: 3, lockoutSec: 300 };

  it('counts failures and locks out at the limit for the lock-out time, then counts afresh', () => {
    expect(afterFailedLogin(0, policy, now)).toEqual({ failures: 1, lockedUntil: null });
    expect(afterFailedLogin(1, policy, now)).toEqual({ failures: 2, lockedUntil: null });
    expect(afterFailedLogin(2, policy, now)).toEqual({ failures: 0, lockedUntil: new Date('2026-12-07T03:05:00Z') });
  });

  it('never locks out when the limit is 0', () => {
    expect(afterFailedLogin(99, { maxFailures: 0, lockoutSec: 300 }, now)).toEqual({
      failures: 100,
      lockedUntil: null,
    });
  });
});
