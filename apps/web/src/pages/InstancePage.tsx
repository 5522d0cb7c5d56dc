import {
  Alert,
  Button,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Flex,
  PageSection,
  Spinner,
  Tab,
  Tabs,
  TabTitleText,
  Title,
} from '@patternfly/react-core';
import { lazy, Suspense, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useSession } from '../App';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ConsoleLog } from '../components/ConsoleLog';
import { ErrorAlert } from '../components/ErrorAlert';
import { LimitsTable } from '../components/LimitsTable';
import { OperationList } from '../components/OperationList';
import { ResizeForm } from '../components/ResizeForm';
import { SetLimitsForm } from '../components/SetLimitsForm';
import { StatsCharts } from '../components/StatsCharts';
import { StatusLabel } from '../components/StatusLabel';
import type { InstanceView } from '../generated/api-types';
import { useInstance } from '../queries';

// xterm.js is loaded only when a terminal is opened: the first page stays small.
const TerminalPanel = lazy(() => import('../components/TerminalPanel'));

type Action = 'start' | 'stop' | 'reboot' | 'migrate' | 'confirm' | 'revert' | 'delete';

/**
 * What each action may start from (the API refuses the rest with 409 anyway). A cold migration is the cloud admin's;
 * its owner may end a resize that waits for verification, the admin any move.
 */
const ACTIONS: Array<{ action: Action; label: string; from: Array<InstanceView['status']>; admin?: boolean }> = [
  { action: 'start', label: 'Start', from: ['SHUTOFF'] },
  { action: 'stop', label: 'Stop', from: ['ACTIVE'] },
  { action: 'reboot', label: 'Reboot', from: ['ACTIVE'] },
  { action: 'migrate', label: 'Migrate', from: ['ACTIVE', 'SHUTOFF'], admin: true },
  { action: 'confirm', label: 'Confirm move', from: ['VERIFY_MIGRATION'] },
  { action: 'revert', label: 'Revert move', from: ['VERIFY_MIGRATION'] },
  { action: 'delete', label: 'Delete', from: ['ACTIVE', 'SHUTOFF', 'ERROR', 'BUILDING'] },
];

/** What the confirmation says each action does. */
const CONSEQUENCE: Record<Exclude<Action, 'delete'>, string> = {
  start: 'The instance will start.',
  stop: 'The instance will stop.',
  reboot: 'The instance will reboot.',
  migrate:
    'The instance moves to another host (it restarts there with the same address), then waits for you to confirm.',
  confirm: 'The move is kept; what it held on its old host is freed.',
  revert: 'The instance goes back to where it was before the move.',
};

/** One instance: where and what it is, its actions, and its operations with their steps, all live. */
export function InstancePage() {
  const { id = '' } = useParams();
  const instance = useInstance(id);
  if (instance.error)
    return (
      <PageSection>
        <ErrorAlert error={instance.error} />
      </PageSection>
    );
  if (!instance.data)
    return (
      <PageSection>
        <Spinner aria-label="Loading the instance" />
      </PageSection>
    );
  const i = instance.data;
  return (
    <>
      <PageSection>
        <Flex alignItems={{ default: 'alignItemsCenter' }}>
          <Title headingLevel="h1">{i.name}</Title>
          <StatusLabel instance={i} />
        </Flex>
      </PageSection>
      <PageSection>
        <Actions instance={i} />
      </PageSection>
      <PageSection>
        <Tabs defaultActiveKey="details" mountOnEnter unmountOnExit aria-label="Instance">
          <Tab eventKey="details" title={<TabTitleText>Details</TabTitleText>}>
            <DescriptionList isHorizontal columnModifier={{ lg: '2Col' }} aria-label="Details">
              {details(i).map(([term, value]) => (
                <DescriptionListGroup key={term}>
                  <DescriptionListTerm>{term}</DescriptionListTerm>
                  <DescriptionListDescription data-testid={`detail-${term}`}>{value}</DescriptionListDescription>
                </DescriptionListGroup>
              ))}
            </DescriptionList>
          </Tab>
          <Tab eventKey="limits" title={<TabTitleText>Limits</TabTitleText>}>
            <ResizeForm instance={i} />
            <SetLimitsForm instance={i} />
            <LimitsTable instance={i} />
          </Tab>
          <Tab eventKey="usage" title={<TabTitleText>Usage</TabTitleText>} isDisabled={i.status !== 'ACTIVE'}>
            {i.status === 'ACTIVE' ? <StatsCharts instanceId={i.id} /> : 'Usage is measured while the instance runs.'}
          </Tab>
          <Tab
            eventKey="terminal"
            title={<TabTitleText>Console</TabTitleText>}
            isDisabled={i.status !== 'ACTIVE' || i.powerState !== 'RUNNING'}
          >
            <Suspense fallback={<Spinner aria-label="Loading the terminal" />}>
              <TerminalPanel instance={i} />
            </Suspense>
          </Tab>
          <Tab eventKey="console" title={<TabTitleText>Console log</TabTitleText>}>
            <ConsoleLog instanceId={i.id} />
          </Tab>
          <Tab eventKey="operations" title={<TabTitleText>Operations</TabTitleText>}>
            <OperationList targetId={i.id} />
          </Tab>
        </Tabs>
      </PageSection>
    </>
  );
}

function details(i: InstanceView): Array<[string, string]> {
  return [
    ['Kind', i.kind],
    ['Power', i.powerState],
    ['Host state', i.hostState ?? '–'],
    ['Address', i.ip ?? '–'],
    ['MAC', i.mac ?? '–'],
    ['VLAN', i.vlan === null ? '–' : String(i.vlan)],
    ['Network', i.network?.name ?? '–'],
    ['Flavor', `${i.flavor.name} (${i.flavor.vcpus} vCPU, ${i.flavor.ramMb} MB, ${i.flavor.diskGb} GB)`],
    ['Image', i.image.name],
    ['Fault', i.fault ? `${i.fault.step}: ${i.fault.message}` : '–'],
  ];
}

function Actions({ instance }: { instance: InstanceView }) {
  const { client, session } = useSession();
  const navigate = useNavigate();
  const [asked, setAsked] = useState<Action | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const run = async (action: Action) => {
    setAsked(null);
    setFailure(null);
    try {
      if (action === 'delete') {
        await client.request('DELETE', `/v1/instances/${instance.id}`);
        void navigate('/instances');
      } else {
        await client.request('POST', `/v1/instances/${instance.id}/actions`, { body: { action } });
      }
    } catch (error) {
      setFailure(error);
    }
  };
  const idle = instance.taskState === null;
  // A move's confirm and revert only while one waits; migrate for the cloud admin only.
  const shown = (a: (typeof ACTIONS)[number]) =>
    (!a.admin || session.role === 'admin') &&
    ((a.action !== 'confirm' && a.action !== 'revert') || instance.status === 'VERIFY_MIGRATION');
  return (
    <>
      {failure !== null && <ErrorAlert error={failure} />}
      <Flex>
        {ACTIONS.filter(shown).map(({ action, label, from }) => (
          <Button
            key={action}
            variant={action === 'delete' ? 'danger' : 'secondary'}
            isDisabled={!idle || !from.includes(instance.status)}
            onClick={() => setAsked(action)}
          >
            {label}
          </Button>
        ))}
      </Flex>
      {asked && (
        <ConfirmDialog
          title={`${asked} ${instance.name}?`}
          variant={asked === 'delete' ? 'danger' : 'primary'}
          onConfirm={() => void run(asked)}
          onClose={() => setAsked(null)}
        >
          {asked === 'delete' ? (
            <Alert variant="warning" isInline title="Its disk and address are gone for good." />
          ) : (
            CONSEQUENCE[asked]
          )}
        </ConfirmDialog>
      )}
    </>
  );
}
