import {
  Alert,
  Button,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ExpandableSection,
  ModalHeader,
  TextInput,
} from '@patternfly/react-core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useSession } from '../App';
import type { CreateInstanceDto, QuotaView } from '../generated/api-types';
import { quotaShortfalls } from '../quota';
import { limitChanges, limitProblems, type LimitInputs } from '../limits';
import { CountFields, countBody, fewest, ONE, type Count } from './CountFields';
import { FieldError, type Failure } from './FieldError';
import { LimitsFields } from './LimitsFields';
import { useCatalog, useQuota } from '../queries';
import { explain } from '../session';

type Choice = 'flavor' | 'image' | 'network' | 'serverGroup';
type Fields = Record<Choice | 'name' | 'restart', string>;

const EMPTY: Fields = { name: '', flavor: '', image: '', network: '', serverGroup: '', restart: 'never' };

const left = (quota: QuotaView, key: keyof QuotaView) =>
  quota[key].limit === -1 ? 'unlimited' : String(Math.max(0, quota[key].limit - quota[key].used));

/** A create: container or VM by its image, with the catalogue's pickers and the quota left; the API's refusals by field. */
export function CreateInstance({ onClose }: { onClose: () => void }) {
  const { client, session } = useSession();
  const catalog = useCatalog();
  const quota = useQuota();
  const [fields, setFields] = useState<Fields>(EMPTY);
  const [count, setCount] = useState<Count>(ONE);
  const [limitInputs, setLimitInputs] = useState<LimitInputs>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const admin = session.role === 'admin';
  const flavor = catalog.data?.flavors.find((f) => f.id === fields.flavor);
  const image = catalog.data?.images.find((i) => i.id === fields.image);
  // Refused early: what even the fewest asked would take past the quota, and limits outside the flavor's bounds.
  const short = flavor && quota.data ? quotaShortfalls(quota.data, flavor, fewest(count)) : [];
  const problems = flavor ? limitProblems(flavor, limitInputs, admin) : {};

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!image) return;
    setBusy(true);
    setFailure(null);
    const limits = limitChanges(limitInputs);
    const body: CreateInstanceDto = {
      name: fields.name,
      kind: image.kind,
      flavor: fields.flavor,
      image: fields.image,
      network: fields.network,
      ...countBody(count),
      ...(limits ? { limits } : {}),
      ...(fields.serverGroup ? { serverGroup: fields.serverGroup } : {}),
      restartPolicy: fields.restart === 'always' ? 'always' : 'never',
    };
    try {
      await client.request('POST', '/v1/instances', { body });
      onClose();
    } catch (error) {
      setFailure(explain(error));
      setBusy(false);
    }
  };
  const refused = short.length > 0 || Object.keys(problems).length > 0;

  return (
    <Modal isOpen onClose={onClose} variant="medium" aria-labelledby="create-title">
      <ModalHeader title="Create an instance" labelId="create-title" />
      <ModalBody>
        <Form id="create-form" onSubmit={(e) => void submit(e)}>
          {failure && <Alert variant="danger" isInline title={failure.message} />}
          <CreateFields fields={fields} onChange={setFields} failure={failure} />
          <CountFields value={count} onChange={setCount} failure={failure} />
          {flavor && (
            <ExpandableSection toggleText="Limits">
              <LimitsFields
                idPrefix="create-limits"
                flavor={flavor}
                admin={admin}
                inputs={limitInputs}
                onChange={setLimitInputs}
                problems={problems}
                failure={failure}
              />
            </ExpandableSection>
          )}
          {quota.data && <QuotaLeft quota={quota.data} />}
          {short.length > 0 && <Alert variant="warning" isInline title={`Past the quota: ${short.join('; ')}`} />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="create-form" isLoading={busy} isDisabled={busy || refused || !image}>
          Create
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

function QuotaLeft({ quota }: { quota: QuotaView }) {
  return (
    <HelperText>
      <HelperTextItem data-testid="quota-left">
        Quota left: {left(quota, 'instances')} instances, {left(quota, 'vcpus')} vCPUs, {left(quota, 'ramMb')} MB RAM,{' '}
        {left(quota, 'diskGb')} GB disk
      </HelperTextItem>
    </HelperText>
  );
}

interface FieldsProps {
  fields: Fields;
  onChange: (fields: Fields) => void;
  failure: Failure | null;
}

function CreateFields({ fields, onChange, failure }: FieldsProps) {
  const data = useCatalog().data;
  const set = (key: keyof Fields) => (_: unknown, value: string) => onChange({ ...fields, [key]: value });
  const pick = (key: Choice, label: string, options: Array<[string, string]>): ReactNode => (
    <FormGroup label={label} isRequired={key !== 'serverGroup'} fieldId={`create-${key}`}>
      <FormSelect id={`create-${key}`} value={fields[key]} onChange={set(key)}>
        <FormSelectOption value="" label={key === 'serverGroup' ? 'None' : `Choose a ${label.toLowerCase()}`} />
        {options.map(([value, text]) => (
          <FormSelectOption key={value} value={value} label={text} />
        ))}
      </FormSelect>
      <FieldError failure={failure} name={key} />
    </FormGroup>
  );
  const kindOf = (kind: string) => (kind === 'vm' ? 'virtual machine' : 'container');
  return (
    <>
      <FormGroup label="Name" isRequired fieldId="create-name">
        <TextInput id="create-name" value={fields.name} onChange={set('name')} />
        <FieldError failure={failure} name="name" />
      </FormGroup>
      {pick(
        'image',
        'Image',
        (data?.images ?? []).map((i) => [i.id, `${i.name} (${kindOf(i.kind)})`]),
      )}
      {pick(
        'flavor',
        'Flavor',
        (data?.flavors ?? []).map((f) => [f.id, `${f.name}: ${f.vcpus} vCPU, ${f.ramMb} MB, ${f.diskGb} GB`]),
      )}
      {pick(
        'network',
        'Network',
        (data?.networks ?? []).map((n) => [n.id, `${n.name} (VLAN ${n.vlan})`]),
      )}
      {pick(
        'serverGroup',
        'Server group',
        (data?.groups ?? []).map((g) => [g.id, `${g.name} (${g.policy})`]),
      )}
      <FormGroup label="Restart policy" fieldId="create-restart">
        <FormSelect id="create-restart" value={fields.restart} onChange={set('restart')}>
          <FormSelectOption value="never" label="Stay stopped when stopped outside Berth" />
          <FormSelectOption value="always" label="Start again when stopped outside Berth" />
        </FormSelect>
      </FormGroup>
    </>
  );
}
