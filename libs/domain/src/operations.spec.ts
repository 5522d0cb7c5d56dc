import { finishSteps, lateStep, startStep } from './operations';

describe('operation steps', () => {
  it('closes the running step when the next one starts', () => {
    const a = startStep([], 'image', 't1');
    const b = startStep(a, 'create', 't2');
    expect(b).toEqual([
      { name: 'image', status: 'succeeded', startedAt: 't1', finishedAt: 't2' },
      { name: 'create', status: 'running', startedAt: 't2' },
    ]);
  });

  it('arrives at the same timeline whatever order the step reports come in', () => {
    const inOrder = startStep(startStep(startStep([], 'schedule', 't0'), 'create', 't1'), 'start', 't2');
    const shuffled = startStep(startStep(startStep([], 'schedule', 't0'), 'start', 't2'), 'create', 't1');
    expect(shuffled).toEqual(inOrder);
    expect(inOrder).toEqual([
      { name: 'schedule', status: 'succeeded', startedAt: 't0', finishedAt: 't1' },
      { name: 'create', status: 'succeeded', startedAt: 't1', finishedAt: 't2' },
      { name: 'start', status: 'running', startedAt: 't2' },
    ]);
  });

  it('adds a step whose report arrives after the operation finished, ended by its successor or the end', () => {
    const finished = finishSteps(startStep(startStep([], 'create', 't1'), 'network', 't3'), 'succeeded', 't5');
    const late = lateStep(finished, 'start', 't2', { at: 't5', outcome: 'succeeded' });
    expect(late).toEqual([
      { name: 'create', status: 'succeeded', startedAt: 't1', finishedAt: 't2' },
      { name: 'start', status: 'succeeded', startedAt: 't2', finishedAt: 't3' },
      { name: 'network', status: 'succeeded', startedAt: 't3', finishedAt: 't5' },
    ]);
    const last = lateStep(finished, 'limits', 't4', { at: 't5', outcome: 'succeeded' });
    expect(last.slice(-2)).toEqual([
      { name: 'network', status: 'succeeded', startedAt: 't3', finishedAt: 't4' },
      { name: 'limits', status: 'succeeded', startedAt: 't4', finishedAt: 't5' },
    ]);
    expect(lateStep(last, 'limits', 't4', { at: 't5', outcome: 'succeeded' })).toEqual(last);
  });

  it('leaves the failing step as the failure recorded it when its own report comes late', () => {
    const failed = finishSteps(startStep([], 'network', 't1'), 'failed', 't3', 'limits');
    expect(lateStep(failed, 'limits', 't2', { at: 't3', outcome: 'failed', failedStep: 'limits' })).toEqual(failed);
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

  it('updates a pending or running step of the same name in place, leaving the others alone', () => {
    const pending = [
      { name: 'pull a', status: 'pending' as const, startedAt: 't0' },
      { name: 'pull b', status: 'pending' as const, startedAt: 't0' },
    ];
    const started = startStep(pending, 'pull a', 't1', '0 of 5 MB');
    const progressed = startStep(startStep(started, 'pull b', 't2'), 'pull a', 't3', '4 of 5 MB');
    expect(progressed).toEqual([
      { name: 'pull a', status: 'running', startedAt: 't1', detail: '4 of 5 MB' },
      { name: 'pull b', status: 'running', startedAt: 't2' },
    ]);
  });
});
