import { List, ListItem, Spinner, Title } from '@patternfly/react-core';
import { useOperation } from '../queries';

/** One operation's status and steps as they go (its events refresh it): a drain, a pre-warm. */
export function OperationProgress({ operationId, title }: { operationId: string; title: string }) {
  const op = useOperation(operationId);
  if (!op.data) return <Spinner aria-label={`Loading the ${title.toLowerCase()}`} />;
  const slug = title.toLowerCase().replace(/\W+/g, '-');
  return (
    <section aria-label={`${title} progress`} data-testid={slug}>
      <Title headingLevel="h2">
        {title}: <span data-testid={`${slug}-status`}>{op.data.status}</span>
      </Title>
      <List>
        {op.data.steps.map((s) => (
          <ListItem key={s.name}>
            {s.name}: {s.status}
            {s.detail ? ` (${s.detail})` : ''}
          </ListItem>
        ))}
        {op.data.fault && <ListItem>{`${op.data.fault.step}: ${op.data.fault.message}`}</ListItem>}
      </List>
    </section>
  );
}
