import {
  Button,
  Flex,
  Label,
  PageSection,
  Progress,
  ProgressMeasureLocation,
  ProgressSize,
  Spinner,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { useSession } from '../App';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorAlert } from '../components/ErrorAlert';
import type { HostView } from '../generated/api-types';
import { OperationProgress } from '../components/OperationProgress';
import { OverviewFigures } from '../components/OverviewFigures';
import { useHosts } from '../queries';

/** A bar of what is used of what the host offers (its capacity times its allocation ratio). */
function Use({ title, used, total, unit = '' }: { title: string; used: number; total: number; unit?: string }) {
  return (
    <Progress
      title={title}
      value={total > 0 ? Math.min(100, (used / total) * 100) : 0}
      label={`${used} / ${total}${unit}`}
      measureLocation={ProgressMeasureLocation.outside}
      size={ProgressSize.sm}
      aria-label={`${title}: ${used} of ${total}${unit}`}
    />
  );
}

/** The compute hosts (the cloud admin's): state, use as bars, enable or disable, and drain with its progress live. */
export function HostsPage() {
  const hosts = useHosts();
  const [asked, setAsked] = useState<{ host: HostView; move: Move } | null>(null);
  const [running, setRunning] = useState<{ operationId: string; move: Move } | null>(null);
  if (hosts.error)
    return (
      <PageSection>
        <ErrorAlert error={hosts.error} />
      </PageSection>
    );
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Hosts</Title>
      </PageSection>
      <PageSection>
        <OverviewFigures />
      </PageSection>
      <PageSection>
        {!hosts.data ? (
          <Spinner aria-label="Loading hosts" />
        ) : (
          <HostTable hosts={hosts.data} onMove={(host, move) => setAsked({ host, move })} />
        )}
        {asked && (
          <MoveDialog
            {...asked}
            onClose={() => setAsked(null)}
            onStarted={(operationId) => setRunning({ operationId, move: asked.move })}
          />
        )}
        {running && (
          <OperationProgress
            operationId={running.operationId}
            title={running.move === 'drain' ? 'Drain' : 'Evacuation'}
          />
        )}
      </PageSection>
    </>
  );
}

/** A drain moves a host's instances off while it runs; an evacuation rebuilds those of a host that is down. */
type Move = 'drain' | 'evacuate';

function HostTable({ hosts, onMove }: { hosts: HostView[]; onMove: (h: HostView, move: Move) => void }) {
  const { client } = useSession();
  const [failure, setFailure] = useState<unknown>(null);
  const toggle = async (h: HostView) => {
    setFailure(null);
    try {
      await client.request('PATCH', `/v1/hosts/${h.id}`, { body: { enabled: !h.enabled } });
    } catch (error) {
      setFailure(error);
    }
  };
  return (
    <>
      {failure !== null && <ErrorAlert error={failure} />}
      <Table aria-label="Hosts" variant="compact">
        <Thead>
          <Tr>
            <Th>Host</Th>
            <Th>State</Th>
            <Th>Use</Th>
            <Th>Actions</Th>
          </Tr>
        </Thead>
        <Tbody>
          {hosts.map((h) => (
            <Tr key={h.id} data-host={h.name}>
              <Td dataLabel="Host">
                {h.name}
                <br />
                {h.address} · {h.zone}
              </Td>
              <Td dataLabel="State">
                <Flex direction={{ default: 'column' }}>
                  <Label color={h.state === 'up' ? 'green' : 'red'}>{h.state}</Label>
                  <Label color={h.enabled ? 'blue' : 'orange'} data-testid="enabled">
                    {h.enabled ? 'enabled' : `disabled${h.disabledReason ? `: ${h.disabledReason}` : ''}`}
                  </Label>
                </Flex>
              </Td>
              <Td dataLabel="Use">
                <Use title="vCPUs" used={h.usage.vcpus} total={h.capacity.vcpus * h.allocationRatios.cpu} />
                <Use title="Pinned CPUs" used={h.usage.pcpus} total={h.capacity.pcpus} />
                <Use title="RAM" used={h.usage.ramMb} total={h.capacity.ramMb * h.allocationRatios.ram} unit=" MB" />
                <Use
                  title="Disk"
                  used={h.usage.diskGb}
                  total={h.capacity.diskGb * h.allocationRatios.disk}
                  unit=" GB"
                />
                <span data-testid="instances">{h.usage.instances} instances</span>
              </Td>
              <Td dataLabel="Actions">
                <Flex>
                  <Button variant="secondary" onClick={() => void toggle(h)}>
                    {h.enabled ? 'Disable' : 'Enable'}
                  </Button>
                  {h.state === 'down' && (
                    <Button variant="danger" onClick={() => onMove(h, 'evacuate')} isDisabled={h.usage.instances === 0}>
                      Evacuate
                    </Button>
                  )}
                  <Button variant="warning" onClick={() => onMove(h, 'drain')} isDisabled={h.usage.instances === 0}>
                    Drain
                  </Button>
                </Flex>
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </>
  );
}

function MoveDialog(props: {
  host: HostView;
  move: Move;
  onClose: () => void;
  onStarted: (operationId: string) => void;
}) {
  const { client } = useSession();
  const [failure, setFailure] = useState<unknown>(null);
  const { host, move } = props;
  const start = async () => {
    try {
      const res = await client.request<{ operationId: string }>('POST', `/v1/hosts/${host.id}/${move}`);
      props.onStarted(res.body.operationId);
      props.onClose();
    } catch (error) {
      setFailure(error);
    }
  };
  const label = move === 'drain' ? 'Drain' : 'Evacuate';
  return (
    <ConfirmDialog
      title={`${label} ${host.name}?`}
      confirmLabel={label}
      variant={move === 'drain' ? 'warning' : 'danger'}
      failure={failure}
      onConfirm={() => void start()}
      onClose={props.onClose}
    >
      {move === 'drain'
        ? `It takes no new instances, and each of its ${host.usage.instances} instances moves to another host (cold: each restarts there with the same address).`
        : `It is down: each of its ${host.usage.instances} instances is rebuilt on another host from its image, with the same address. What was written inside them on this host is not carried over.`}
    </ConfirmDialog>
  );
}
