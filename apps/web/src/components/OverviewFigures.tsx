import { Card, CardBody, CardTitle, Flex, Label, List, ListItem } from '@patternfly/react-core';
import { useQuery } from '@tanstack/react-query';
import { useSession } from '../App';
import type { OverviewView } from '../generated/api-types';
import { ErrorAlert } from './ErrorAlert';

/** The figures an operator looks at first (GET /v1/overview): instances by status, creates refused by reason. */
export function OverviewFigures() {
  const { client } = useSession();
  // Keyed under 'instances': every instance event reads it again.
  const overview = useQuery({
    queryKey: ['instances', 'overview'],
    queryFn: () => client.get<OverviewView>('/v1/overview', { hours: 24 }),
  });
  if (overview.error) return <ErrorAlert error={overview.error} />;
  const o = overview.data;
  if (!o) return null;
  return (
    <Flex>
      <Card isCompact>
        <CardTitle component="h2">Instances by status</CardTitle>
        <CardBody>
          <Flex data-testid="overview-instances">
            {o.instances.map((c) => (
              <Label key={`${c.status}-${c.kind}`} color={c.status === 'ERROR' ? 'red' : 'blue'}>
                {`${c.status} ${c.kind} ${c.count}`}
              </Label>
            ))}
            {o.instances.length === 0 && 'none'}
          </Flex>
        </CardBody>
      </Card>
      <Card isCompact>
        <CardTitle component="h2">Creates refused in 24 hours: {o.refusedPlacements.total}</CardTitle>
        <CardBody>
          <List isPlain data-testid="overview-refusals">
            {o.refusedPlacements.byReason.map((r) => (
              <ListItem key={r.reason}>{`${r.reason}: ${r.count}`}</ListItem>
            ))}
          </List>
        </CardBody>
      </Card>
    </Flex>
  );
}
