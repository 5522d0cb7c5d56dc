import { decodeFrame, encodeFrame, parseSize, terminalChannels, type TerminalFrame } from './terminal';

describe('terminal frames', () => {
  const frames: TerminalFrame[] = [
    { type: 'data', data: Buffer.from([0, 1, 0x1b, 0xff, 0x64]) },
    { type: 'data', data: Buffer.alloc(0) },
    { type: 'resize', size: { cols: 132, rows: 43 } },
    { type: 'keepalive' },
    { type: 'close' },
    { type: 'end', reason: 'the shell exited with status 130 — é' },
  ];

  it.each(frames.map((f) => [f.type, f] as const))('a %s frame decodes to what was encoded', (_type, frame) => {
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('ignores what is not a frame: an unknown tag, an empty message, a resize that is not a size', () => {
    expect(decodeFrame(Buffer.from('zhello'))).toBeNull();
    expect(decodeFrame(Buffer.alloc(0))).toBeNull();
    expect(decodeFrame(Buffer.from('r{"cols":0,"rows":10}'))).toBeNull();
    expect(decodeFrame(Buffer.from('rnot json'))).toBeNull();
  });

  it('takes sizes of whole cells from 1 to 1000 only', () => {
    expect(parseSize('{"cols":80,"rows":24}')).toEqual({ cols: 80, rows: 24 });
    expect(parseSize('{"type":"resize","cols":1000,"rows":1}')).toEqual({ cols: 1000, rows: 1 });
    for (const bad of ['{"cols":1001,"rows":24}', '{"cols":80.5,"rows":24}', '{"cols":"80","rows":24}', 'null', '[]']) {
      expect(parseSize(bad)).toBeNull();
    }
  });

  it("names a session's channels under its host, so that a host's Redis user can be held to its own", () => {
    expect(terminalChannels('berth', 'node-1', 's1')).toEqual({
      input: 'berth:terminal:node-1:s1:in',
      output: 'berth:terminal:node-1:s1:out',
    });
  });
});
