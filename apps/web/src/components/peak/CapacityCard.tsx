import {
  ActionGroup,
  Button,
  Card,
  CardBody,
  CardTitle,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  TextInput,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../App';
import type { CapacityView } from '../../generated/api-types';
import { useCatalog } from '../../queries';
import { explain } from '../../session';
import { FieldError, FormFailure, type Failure } from '../FieldError';

/** GET /v1/capacity: how many more of a flavor fit, in all and on each host, and why other hosts do not count. */
export function CapacityCard() {
  const { client } = useSession();
  const catalog = useCatalog();
  const [flavor, setFlavor] = useState('');
  const [zone, setZone] = useState('');
  const [kind, setKind] = useState<'container' | 'vm'>('container');
  const [answer, setAnswer] = useState<CapacityView | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const ask = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    try {
      setAnswer(await client.get<CapacityView>('/v1/capacity', { flavor, kind, ...(zone ? { zone } : {}) }));
    } catch (error) {
      setFailure(explain(error));
    }
  };
  return (
    <Card>
      <CardTitle component="h2">How many more fit</CardTitle>
      <CardBody>
        <Form isHorizontal onSubmit={(e) => void ask(e)}>
          <FormGroup label="Flavor" fieldId="capacity-flavor">
            <FormSelect id="capacity-flavor" value={flavor} onChange={(_e, v) => setFlavor(v)}>
              <FormSelectOption value="" label="Choose a flavor" isPlaceholder />
              {(catalog.data?.flavors ?? []).map((f) => (
                <FormSelectOption key={f.id} value={f.name} label={f.name} />
              ))}
            </FormSelect>
            <FieldError failure={failure} name="flavor" />
          </FormGroup>
          <FormGroup label="Kind" fieldId="capacity-kind">
            <FormSelect id="capacity-kind" value={kind} onChange={(_e, v) => setKind(v as typeof kind)}>
              <FormSelectOption value="container" label="container" />
              <FormSelectOption value="vm" label="virtual machine" />
            </FormSelect>
          </FormGroup>
          <FormGroup label="Zone" fieldId="capacity-zone">
            <TextInput id="capacity-zone" value={zone} onChange={(_e, v) => setZone(v)} placeholder="any zone" />
            <FieldError failure={failure} name="zone" />
          </FormGroup>
          <ActionGroup>
            <Button type="submit">Ask</Button>
          </ActionGroup>
        </Form>
        <FormFailure failure={failure} />
        {answer && <CapacityAnswer answer={answer} />}
      </CardBody>
    </Card>
  );
}

function CapacityAnswer({ answer }: { answer: CapacityView }) {
  return (
    <>
      <p data-testid="capacity-total">
        {answer.total} more {answer.flavor} {answer.kind === 'vm' ? 'VMs' : 'containers'} fit
        {answer.zone ? ` in ${answer.zone}` : ''}
      </p>
      <Table aria-label="Room per host" variant="compact">
        <Thead>
          <Tr>
            <Th>Host</Th>
            <Th>Zone</Th>
            <Th>Fits</Th>
          </Tr>
        </Thead>
        <Tbody>
          {answer.hosts.map((h) => (
            <Tr key={h.host} data-capacity-host={h.host}>
              <Td dataLabel="Host">{h.host}</Td>
              <Td dataLabel="Zone">{h.zone}</Td>
              <Td dataLabel="Fits">{h.fits}</Td>
            </Tr>
          ))}
          {answer.excluded.map((r) => (
            <Tr key={`${r.filter}-${r.code}`}>
              <Td dataLabel="Host">{`${r.hosts} host${r.hosts === 1 ? '' : 's'}`}</Td>
              <Td dataLabel="Zone">not counted</Td>
              <Td dataLabel="Fits">{r.example}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </>
  );
}
