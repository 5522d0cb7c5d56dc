import { finishSteps, startStep } from './operations';

describe('operation steps', () => {
  it('closes the running step when the next one starts', () => {
    const a = startStep([], 'image', 't1');
    const b = startStep(a, 'create', 't2');
    expect(b).toEqual([
      { name: 'image', status: 'succeeded', startedAt: 't1', finishedAt: 't2' },
      { name: 'create', status: 'running', startedAt: 't2' },
    ]);
  });

  it('ignores a step report delivered twice', () => {
    const once = startStep(startStep([], 'image', 't1'), 'create', 't2');
    expect(startStep(once, 'create', 't2')).toEqual(once);
  });

  it('marks the running step failed when the operation fails', () => {
    const steps = finishSteps(startStep([], 'network', 't1'), 'failed', 't2', 'network');
    expect(steps).toEqual([{ name: 'network', status: 'failed', startedAt: 't1', finishedAt: 't2' }]);
  });

  it('records the failing step when no step was running', () => {
    expect(finishSteps([], 'failed', 't3', 'schedule')).toEqual([
      { name: 'schedule', status: 'failed', startedAt: 't3', finishedAt: 't3' },
    ]);
  });
});
