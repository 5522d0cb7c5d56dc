import { Label, List, ListItem, Spinner } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import type { OperationView } from '../generated/api-types';
import { useInstanceOperations } from '../queries';
import { ErrorAlert } from './ErrorAlert';

const time = (at: string | null | undefined) => (at ? new Date(at).toLocaleTimeString() : '');
const when = (at: string) => new Date(at).toLocaleString();

/** The operations on one target, newest first, each with its steps, their times and any fault. */
export function OperationList({ targetId }: { targetId: string }) {
  const operations = useInstanceOperations(targetId);
  if (operations.error) return <ErrorAlert error={operations.error} />;
  if (!operations.data) return <Spinner aria-label="Loading operations" />;
  return <OperationTable operations={operations.data} />;
}

/** Operations as the audit trail shows them; `withTarget` adds what each acted on and who asked. */
export function OperationTable({
  operations,
  withTarget = false,
}: {
  operations: OperationView[];
  withTarget?: boolean;
}) {
  return (
    <Table aria-label="Operations" variant="compact">
      <Thead>
        <Tr>
          {withTarget && <Th>Target</Th>}
          <Th>Action</Th>
          <Th>Status</Th>
          <Th>Started</Th>
          <Th>Steps</Th>
        </Tr>
      </Thead>
      <Tbody>
        {operations.map((op) => (
          <Tr key={op.id} data-operation={op.action}>
            {withTarget && (
              <Td dataLabel="Target">
                {op.targetType} {op.targetId?.slice(0, 8) ?? ''}
              </Td>
            )}
            <Td dataLabel="Action">{op.action}</Td>
            <Td dataLabel="Status">
              <Label color={op.status === 'failed' ? 'red' : op.status === 'succeeded' ? 'green' : 'blue'}>
                {op.status}
              </Label>
              {op.fault ? ` ${op.fault.step}: ${op.fault.message}` : ''}
            </Td>
            <Td dataLabel="Started">{withTarget ? when(op.startedAt) : time(op.startedAt)}</Td>
            <Td dataLabel="Steps">
              <List isPlain>
                {op.steps.map((s, n) => (
                  <ListItem key={`${s.name}-${n}`}>
                    {time(s.startedAt)} {s.name} {s.status}
                    {s.detail ? `: ${s.detail}` : ''}
                  </ListItem>
                ))}
              </List>
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
