import { Writable } from 'node:stream';
import pino from 'pino';
import { logContext, requestIdOf, withLogContext, withRequestId } from './log-context';

describe('log context', () => {
  it('adds the request id to jobs enqueued inside a request, and only there', async () => {
    expect(withRequestId({ a: 1 })).toEqual({ a: 1 });
    await withLogContext({ requestId: 'req-12345678' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(logContext()).toEqual({ requestId: 'req-12345678' });
      expect(withRequestId({ a: 1 })).toEqual({ a: 1, requestId: 'req-12345678' });
      // A payload that already names a request keeps it.
      expect(withRequestId({ requestId: 'other-123456' })).toEqual({ requestId: 'other-123456' });
    });
    expect(logContext()).toEqual({});
  });

  it('reads back only a well-formed request id from a job', () => {
    expect(requestIdOf({ requestId: 'req-12345678' })).toBe('req-12345678');
    expect(requestIdOf({ requestId: 'short' })).toBeUndefined();
    expect(requestIdOf({ requestId: 'a b c d e f g h' })).toBeUndefined();
    expect(requestIdOf({ requestId: 42 })).toBeUndefined();
    expect(requestIdOf(null)).toBeUndefined();
  });

  it('puts the request id on every log line written inside the request', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ mixin: () => ({ ...logContext() }) }, sink);
    withLogContext({ requestId: 'req-12345678' }, () => log.child({ operationId: 'op' }).info('inside'));
    log.info('outside');
    expect(JSON.parse(lines[0]!)).toMatchObject({ requestId: 'req-12345678', operationId: 'op', msg: 'inside' });
    expect(JSON.parse(lines[1]!).requestId).toBeUndefined();
  });
});
