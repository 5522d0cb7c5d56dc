/** The VLANs a host reaches, as inclusive ranges: "1-4094", "100-199,300". */
export type VlanRanges = ReadonlyArray<readonly [number, number]>;

export const ALL_VLANS = '1-4094';

export function parseVlanRanges(text: string): VlanRanges | null {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (!m) return null;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (low < 1 || high > 4094 || high < low) return null;
    ranges.push([low, high]);
  }
  return ranges;
}

export function reaches(ranges: VlanRanges, vlan: number): boolean {
  return ranges.some(([low, high]) => vlan >= low && vlan <= high);
}

export function formatVlanRanges(ranges: VlanRanges): string {
  return ranges.map(([low, high]) => (low === high ? String(low) : `${low}-${high}`)).join(',');
}
