import { Button, CodeBlock, CodeBlockCode } from '@patternfly/react-core';
import { useQuery } from '@tanstack/react-query';
import { useSession } from '../App';
import type { ConsoleView } from '../generated/api-types';
import { ErrorAlert } from './ErrorAlert';

/** The last lines of the instance's console: a container's output, a VM's serial console. */
export function ConsoleLog({ instanceId }: { instanceId: string }) {
  const { client } = useSession();
  const log = useQuery({
    queryKey: ['console', instanceId],
    queryFn: () => client.get<ConsoleView>(`/v1/instances/${instanceId}/console`, { lines: 50 }),
  });
  return (
    <>
      {log.error && <ErrorAlert error={log.error} />}
      <Button variant="secondary" onClick={() => void log.refetch()} isLoading={log.isFetching}>
        Read again
      </Button>
      <CodeBlock>
        <CodeBlockCode data-testid="console-log">{(log.data?.lines ?? []).join('\n')}</CodeBlockCode>
      </CodeBlock>
    </>
  );
}
