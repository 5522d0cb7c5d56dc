import { ActionGroup, Button, ExpandableSection, Form } from '@patternfly/react-core';
import { useState, type FormEvent } from 'react';
import { useSession } from '../App';
import type { InstanceView } from '../generated/api-types';
import { limitChanges, limitProblems, type LimitInputs } from '../limits';
import { useCatalog } from '../queries';
import { explain } from '../session';
import { FormFailure, type Failure } from './FieldError';
import { LimitsFields } from './LimitsFields';

/**
 * Set limits on a live instance (action set-limits): a member within its flavor's bounds, the cloud admin any.
 * The table beside it shows what the host read back once it applied them.
 */
export function SetLimitsForm({ instance }: { instance: InstanceView }) {
  const { client, session } = useSession();
  const flavor = useCatalog().data?.flavors.find((f) => f.id === instance.flavor.id);
  const [inputs, setInputs] = useState<LimitInputs>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  if (!flavor) return null;
  const admin = session.role === 'admin';
  const problems = limitProblems(flavor, inputs, admin);
  const limits = limitChanges(inputs);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      await client.request('POST', `/v1/instances/${instance.id}/actions`, { body: { action: 'set-limits', limits } });
      setInputs({});
    } catch (error) {
      setFailure(explain(error));
    }
    setBusy(false);
  };

  return (
    <ExpandableSection toggleText="Set limits">
      <Form id="set-limits-form" onSubmit={(e) => void submit(e)} isHorizontal>
        <FormFailure failure={failure} />
        <LimitsFields
          idPrefix="set-limits"
          flavor={flavor}
          admin={admin}
          inputs={inputs}
          onChange={setInputs}
          problems={problems}
          failure={failure}
        />
        <ActionGroup>
          <Button
            type="submit"
            variant="secondary"
            isLoading={busy}
            isDisabled={busy || !limits || Object.keys(problems).length > 0 || instance.taskState !== null}
          >
            Apply limits
          </Button>
        </ActionGroup>
      </Form>
    </ExpandableSection>
  );
}
