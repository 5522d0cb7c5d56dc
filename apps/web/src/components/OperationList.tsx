import { Label, List, ListItem, Spinner } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useInstanceOperations } from '../queries';
import { ErrorAlert } from './ErrorAlert';

const time = (at: string | null | undefined) => (at ? new Date(at).toLocaleTimeString() : '');

/** The operations on one target, newest first, each with its steps, their times and any fault. */
export function OperationList({ targetId }: { targetId: string }) {
  const operations = useInstanceOperations(targetId);
  if (operations.error) return <ErrorAlert error={operations.error} />;
  if (!operations.data) return <Spinner aria-label="Loading operations" />;
  return (
    <Table aria-label="Operations" variant="compact">
      <Thead>
        <Tr>
          <Th>Action</Th>
          <Th>Status</Th>
          <Th>Started</Th>
          <Th>Steps</Th>
        </Tr>
      </Thead>
      <Tbody>
        {operations.data.map((op) => (
          <Tr key={op.id} data-operation={op.action}>
            <Td dataLabel="Action">{op.action}</Td>
            <Td dataLabel="Status">
              <Label color={op.status === 'failed' ? 'red' : op.status === 'succeeded' ? 'green' : 'blue'}>
                {op.status}
              </Label>
              {op.fault ? ` ${op.fault.step}: ${op.fault.message}` : ''}
            </Td>
            <Td dataLabel="Started">{time(op.startedAt)}</Td>
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
