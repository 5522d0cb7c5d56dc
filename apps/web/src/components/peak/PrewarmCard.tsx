import {
  ActionGroup,
  Button,
  Card,
  CardBody,
  CardTitle,
  Checkbox,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  TextInput,
} from '@patternfly/react-core';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../App';
import { useCatalog, useHosts } from '../../queries';
import { explain } from '../../session';
import { FieldError, FormFailure, type Failure } from '../FieldError';
import { OperationProgress } from '../OperationProgress';

/**
 * POST /v1/images/:id/prewarm: pulls an image ahead of the peak on the hosts chosen, or on every host of a zone, each
 * host's step shown.
 */
export function PrewarmCard() {
  const { client } = useSession();
  const catalog = useCatalog();
  const [image, setImage] = useState('');
  const [zone, setZone] = useState('');
  const [hosts, setHosts] = useState<string[]>([]);
  const [operationId, setOperationId] = useState<string | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const start = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    try {
      const res = await client.request<{ operationId: string }>('POST', `/v1/images/${image}/prewarm`, {
        body: { ...(zone ? { zone } : {}), ...(hosts.length > 0 ? { hosts } : {}) },
      });
      setOperationId(res.body.operationId);
    } catch (error) {
      setFailure(explain(error));
    }
  };
  return (
    <Card>
      <CardTitle component="h2">Pre-warm an image</CardTitle>
      <CardBody>
        <Form isHorizontal onSubmit={(e) => void start(e)}>
          <FormGroup label="Image" fieldId="prewarm-image">
            <FormSelect id="prewarm-image" value={image} onChange={(_e, v) => setImage(v)}>
              <FormSelectOption value="" label="Choose an image" isPlaceholder />
              {(catalog.data?.images ?? []).map((i) => (
                <FormSelectOption key={i.id} value={i.id} label={i.name} />
              ))}
            </FormSelect>
            <FieldError failure={failure} name="id" />
          </FormGroup>
          <HostChoice chosen={hosts} onChange={setHosts} failure={failure} />
          <FormGroup label="Zone" fieldId="prewarm-zone">
            <TextInput id="prewarm-zone" value={zone} onChange={(_e, v) => setZone(v)} placeholder="every zone" />
            <FieldError failure={failure} name="zone" />
          </FormGroup>
          <ActionGroup>
            <Button type="submit" isDisabled={!image}>
              Pre-warm
            </Button>
          </ActionGroup>
        </Form>
        <FormFailure failure={failure} />
        {operationId && <OperationProgress operationId={operationId} title="Pre-warm" />}
      </CardBody>
    </Card>
  );
}

/** The hosts to pull on; none chosen: every host that is up. */
function HostChoice(props: { chosen: string[]; onChange: (hosts: string[]) => void; failure: Failure | null }) {
  const hosts = useHosts().data ?? [];
  const { chosen, onChange } = props;
  return (
    <FormGroup role="group" label="Hosts" fieldId="prewarm-hosts" isStack>
      {hosts.map((h) => (
        <Checkbox
          key={h.id}
          id={`prewarm-host-${h.name}`}
          label={h.name}
          isChecked={chosen.includes(h.name)}
          onChange={(_e, on) => onChange(on ? [...chosen, h.name] : chosen.filter((n) => n !== h.name))}
        />
      ))}
      <FieldError failure={props.failure} name="hosts" />
    </FormGroup>
  );
}
