import { Label, type LabelProps } from '@patternfly/react-core';
import type { InstanceView } from '../generated/api-types';

const COLORS: Record<InstanceView['status'], LabelProps['color']> = {
  BUILDING: 'blue',
  ACTIVE: 'green',
  SHUTOFF: 'grey',
  MIGRATING: 'purple',
  VERIFY_MIGRATION: 'orange',
  ERROR: 'red',
  DELETED: 'grey',
};

/** An instance's status, with the task in flight when there is one (ACTIVE · resizing). */
export function StatusLabel({ instance }: { instance: Pick<InstanceView, 'status' | 'taskState'> }) {
  return (
    <Label color={COLORS[instance.status]} data-testid="status">
      {instance.status}
      {instance.taskState ? ` · ${instance.taskState}` : ''}
    </Label>
  );
}
