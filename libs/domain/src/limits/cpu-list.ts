/**
 * CPU lists as the kernel writes them in cpuset.cpus and /sys/devices/system/cpu/online:
 * "0-3,8,10-11". Parsed into sorted, distinct CPU numbers.
 */
const MAX_CPU = 8191;

export function parseCpuList(text: string): number[] | null {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    if (!m) return null;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (high < low || high > MAX_CPU) return null;
    for (let cpu = low; cpu <= high; cpu += 1) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The shortest kernel form: consecutive CPUs become a range. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j += 1;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A host's two CPU pools: shared instances float over one, dedicated ones own CPUs of the other. */
export interface HostCpuSets {
  shared: number[];
  dedicated: number[];
}

/**
 * Splits a host's online CPUs into its pools from the operator's settings (Nova's cpu_shared_set
 * and cpu_dedicated_set). The shared set defaults to every online CPU not dedicated. Both must be
 * online CPUs and must not overlap; a host may offer only one kind, but not neither.
 */
export function hostCpuSets(online: string, dedicatedSetting: string, sharedSetting?: string): HostCpuSets {
  const all = parseCpuList(online);
  if (!all || all.length === 0) throw new Error(`cannot read the host's online CPUs from ${JSON.stringify(online)}`);
  const parse = (text: string, name: string) => {
    const cpus = parseCpuList(text);
    if (!cpus) throw new Error(`${name} must be a kernel CPU list such as 0-3,8, got ${JSON.stringify(text)}`);
    const offline = cpus.filter((c) => !all.includes(c));
    if (offline.length > 0) {
      throw new Error(
        `${name} names CPUs this host does not have online: ${formatCpuList(offline)} (online: ${online})`,
      );
    }
    return cpus;
  };
  const dedicated = parse(dedicatedSetting, 'BERTH_CPU_DEDICATED_SET');
  const shared =
    sharedSetting === undefined
      ? all.filter((c) => !dedicated.includes(c))
      : parse(sharedSetting, 'BERTH_CPU_SHARED_SET');
  const overlap = shared.filter((c) => dedicated.includes(c));
  if (overlap.length > 0) {
    throw new Error(`BERTH_CPU_SHARED_SET and BERTH_CPU_DEDICATED_SET overlap on CPUs ${formatCpuList(overlap)}`);
  }
  if (shared.length === 0 && dedicated.length === 0) throw new Error('the host offers no CPUs to instances');
  return { shared, dedicated };
}
