import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import type { InstanceView } from '../generated/api-types';

const show = (value: number | string | null | undefined, unit = '') =>
  value === null || value === undefined ? '–' : `${value}${unit}`;

/** What the instance is promised beside what its host read back from the kernel and OVS, limit by limit. */
export function LimitsTable({ instance }: { instance: InstanceView }) {
  const asked = instance.limits;
  const applied = instance.appliedLimits;
  const rows: Array<[string, string, string]> = [
    [
      'CPUs',
      `${asked.vcpus} (${asked.cpuPolicy}${asked.pinnedCpus.length ? `: ${asked.pinnedCpus.join(',')}` : ''})`,
      applied ? `cpuset ${applied.cpuset}${applied.cpus === null ? '' : `, ${applied.cpus} CPUs`}` : '–',
    ],
    ['CPU quota', show(asked.cpuQuota, '%'), '–'],
    ['Memory', show(asked.ramMb, ' MB'), show(applied?.ramMb, ' MB')],
    ['Processes', show(asked.pidsLimit), show(applied?.pidsLimit)],
    ['Disk read', show(asked.diskReadIops, ' IO/s'), show(applied?.diskReadIops, ' IO/s')],
    ['Disk write', show(asked.diskWriteIops, ' IO/s'), show(applied?.diskWriteIops, ' IO/s')],
    ['Disk read rate', show(asked.diskReadBps, ' B/s'), show(applied?.diskReadBps, ' B/s')],
    ['Disk write rate', show(asked.diskWriteBps, ' B/s'), show(applied?.diskWriteBps, ' B/s')],
    ['Disk weight', show(asked.diskWeight), show(applied?.diskWeight)],
    ['Network in', show(asked.netIngressMbps, ' Mbit/s'), show(applied?.netIngressMbps, ' Mbit/s')],
    ['Network out', show(asked.netEgressMbps, ' Mbit/s'), show(applied?.netEgressMbps, ' Mbit/s')],
  ];
  return (
    <Table aria-label="Limits" variant="compact">
      <Thead>
        <Tr>
          <Th>Limit</Th>
          <Th>Asked</Th>
          <Th>Applied (read back)</Th>
        </Tr>
      </Thead>
      <Tbody>
        {rows.map(([name, want, got]) => (
          <Tr key={name} data-limit={name}>
            <Td dataLabel="Limit">{name}</Td>
            <Td dataLabel="Asked">{want}</Td>
            <Td dataLabel="Applied (read back)">{got}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
