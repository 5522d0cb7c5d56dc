import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import type { InstanceView } from '../generated/api-types';
import { THROTTLES, withUnit } from '../limits';

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
    ['Memory', withUnit(asked.ramMb, 'MB'), withUnit(applied?.ramMb, 'MB')],
    // The CPU quota is read back as the CPUs' cap above.
    ...THROTTLES.map(({ key, label, unit }): [string, string, string] => [
      label,
      withUnit(asked[key], unit),
      key === 'cpuQuota' ? '–' : withUnit(applied?.[key], unit),
    ]),
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
