/** One line of /proc/<pid>/mountinfo (proc(5)). */
export interface Mount {
  /** "major:minor" of the filesystem's device (0:N for filesystems without one). */
  device: string;
  /** The root of the mount within its filesystem. */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal: "\040". */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const [fsType, source, superOptions] = right.split(' ');
    if (f.length < 5 || !fsType || source === undefined) continue;
    mounts.push({
      device: f[2] ?? '',
      root: unescape(f[3] ?? ''),
      mountPoint: unescape(f[4] ?? ''),
      fsType,
      source: unescape(source),
      superOptions: (superOptions ?? '').split(','),
    });
  }
  return mounts;
}

/** The mount that holds `path` (an absolute, resolved path): the last-mounted one with the longest prefix. */
export function mountOf(mounts: readonly Mount[], path: string): Mount | null {
  let best: Mount | null = null;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}
