/** Block IO throttles on one device; null: no limit. */
export interface IoThrottle {
  readBps: number | null;
  writeBps: number | null;
  readIops: number | null;
  writeIops: number | null;
}

export const NO_IO_THROTTLE: IoThrottle = { readBps: null, writeBps: null, readIops: null, writeIops: null };

/** cgroup v1 files, one per throttle, each holding "MAJ:MIN value" lines (0 removes a limit). */
export const V1_IO_FILES: Readonly<Record<keyof IoThrottle, string>> = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
};

/** The value a v1 throttle file holds for `device`, or null when it has no line for it. */
export function parseV1Throttle(text: string, device: string): number | null {
  for (const line of text.split('\n')) {
    const [dev, value] = line.trim().split(/\s+/);
    if (dev === device && value !== undefined) return Number(value) || null;
  }
  return null;
}

const V2_KEYS: Readonly<Record<keyof IoThrottle, string>> = {
  readBps: 'rbps',
  writeBps: 'wbps',
  readIops: 'riops',
  writeIops: 'wiops',
};

/** The io.max line (cgroup v2) that sets every throttle of `device`; "max" removes one. */
export function formatV2IoMax(device: string, t: IoThrottle): string {
  const parts = (Object.keys(V2_KEYS) as Array<keyof IoThrottle>).map((k) => `${V2_KEYS[k]}=${t[k] ?? 'max'}`);
  return `${device} ${parts.join(' ')}`;
}

/** The throttles io.max holds for `device` (cgroup v2); a device without a line has none. */
export function parseV2IoMax(text: string, device: string): IoThrottle {
  const out: IoThrottle = { ...NO_IO_THROTTLE };
  for (const line of text.split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    if (dev !== device) continue;
    for (const pair of pairs) {
      const [key, value] = pair.split('=');
      const name = (Object.keys(V2_KEYS) as Array<keyof IoThrottle>).find((k) => V2_KEYS[k] === key);
      if (name && value !== undefined) out[name] = value === 'max' ? null : Number(value);
    }
  }
  return out;
}
