import { Reverter, RevertedError, withRevert } from './revert';

describe('withRevert', () => {
  it('undoes the steps that were done, newest first, and rethrows', async () => {
    const undone: string[] = [];
    const failure = new Error('step 3 failed');
    await expect(
      withRevert((r) => {
        r.add('one', () => Promise.resolve(undone.push('one')));
        r.add('two', () => Promise.resolve(undone.push('two')));
        return Promise.reject(failure);
      }),
    ).rejects.toBe(failure);
    expect(undone).toEqual(['two', 'one']);
  });

  it('runs every undo even when one fails, and reports the failed undo', async () => {
    const undone: string[] = [];
    const error = await withRevert((r) => {
      r.add('one', () => Promise.resolve(undone.push('one')));
      r.add('two', () => Promise.reject(new Error('busy')));
      return Promise.reject(new Error('boom'));
    }).catch((e: unknown) => e);
    expect(undone).toEqual(['one']);
    expect(error).toBeInstanceOf(RevertedError);
    expect((error as RevertedError).revertFailures).toEqual([{ label: 'two', error: 'busy' }]);
    expect((error as RevertedError).message).toBe('boom');
  });

  it('forgets the undos once the change succeeded', async () => {
    const reverter = new Reverter();
    let undone = false;
    reverter.add('x', () => Promise.resolve((undone = true)));
    reverter.success();
    expect(await reverter.revert()).toEqual([]);
    expect(undone).toBe(false);
  });
});
