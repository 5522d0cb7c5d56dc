import type { VolumeThrottle } from '@berth/contracts';

/** A volume as one of a VM's disks: its file on this host, the serial its guest reads, its target, its throttles. */
export interface VolumeDisk {
  file: string;
  serial: string;
  /** The disk's name in the domain (vdc, vdd, ...): vda is the instance's own disk, vdb its config drive. */
  dev: string;
  throttle: VolumeThrottle;
}

/** QEMU's block throttles: only those set. */
export function iotuneOf(t: VolumeThrottle): Record<string, string> {
  return Object.fromEntries(
    (
      [
        ['read_bytes_sec', t.readBps],
        ['write_bytes_sec', t.writeBps],
        ['read_iops_sec', t.readIops],
        ['write_iops_sec', t.writeIops],
      ] as const
    ).flatMap(([k, v]) => (v === null ? [] : [[k, String(v)]])),
  );
}

/** A volume's <disk>, as an xml2js tree: raw, uncached, a virtio disk with the volume's serial. */
export function volumeDiskElement(d: VolumeDisk) {
  const iotune = iotuneOf(d.throttle);
  return {
    $: { type: 'file', device: 'disk' },
    driver: { $: { name: 'qemu', type: 'raw', cache: 'none', io: 'native' } },
    source: { $: { file: d.file } },
    target: { $: { dev: d.dev, bus: 'virtio' } },
    serial: d.serial,
    ...(Object.keys(iotune).length > 0 ? { iotune } : {}),
  };
}
