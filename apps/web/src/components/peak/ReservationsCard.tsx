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
  NumberInput,
  TextInput,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../App';
import type { ProjectList, ReservationList } from '../../generated/api-types';
import { useCatalog } from '../../queries';
import { explain } from '../../session';
import { ErrorAlert } from '../ErrorAlert';
import { FieldError, FormFailure, type Failure } from '../FieldError';

/** The next whole hour, a day from now, as a datetime-local input shows it. */
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 14) + '00';

/** Reservations: room held for a project's peak (all or nothing), drawn on by its creates, released at the end. */
export function ReservationsCard() {
  const { client } = useSession();
  const queries = useQueryClient();
  const reservations = useQuery({
    queryKey: ['reservations'],
    queryFn: async () => (await client.get<ReservationList>('/v1/reservations')).items,
  });
  const [failure, setFailure] = useState<unknown>(null);
  const release = async (id: string) => {
    setFailure(null);
    try {
      await client.request('DELETE', `/v1/reservations/${id}`);
    } catch (error) {
      setFailure(error);
    }
    await queries.invalidateQueries({ queryKey: ['reservations'] });
  };
  return (
    <Card>
      <CardTitle component="h2">Reservations</CardTitle>
      <CardBody>
        <ReservationForm onCreated={() => void queries.invalidateQueries({ queryKey: ['reservations'] })} />
        {failure !== null && <ErrorAlert error={failure} />}
        <Table aria-label="Reservations" variant="compact">
          <Thead>
            <Tr>
              <Th>Flavor</Th>
              <Th>Free of</Th>
              <Th>Hosts</Th>
              <Th>Ends</Th>
              <Th>Status</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {(reservations.data ?? []).map((r) => (
              <Tr key={r.id} data-reservation={r.flavor}>
                <Td dataLabel="Flavor">{r.flavor}</Td>
                <Td dataLabel="Free of">{`${r.free} of ${r.count}`}</Td>
                <Td dataLabel="Hosts">{r.slots.map((s) => `${s.host}: ${s.slots}`).join(', ')}</Td>
                <Td dataLabel="Ends">{new Date(r.endsAt).toLocaleString()}</Td>
                <Td dataLabel="Status">{r.status}</Td>
                <Td dataLabel="Actions">
                  {r.status === 'active' && (
                    <Button variant="secondary" size="sm" onClick={() => void release(r.id)}>
                      Release
                    </Button>
                  )}
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      </CardBody>
    </Card>
  );
}

function ReservationForm({ onCreated }: { onCreated: () => void }) {
  const { client } = useSession();
  const catalog = useCatalog();
  const projects = useQuery({
    queryKey: ['projects'],
    queryFn: async () => (await client.get<ProjectList>('/v1/projects')).items,
  });
  const [body, setBody] = useState({ flavor: '', count: 1, project: '', endsAt: tomorrow() });
  const [failure, setFailure] = useState<Failure | null>(null);
  const set = (change: Partial<typeof body>) => setBody((b) => ({ ...b, ...change }));
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    try {
      const endsAt = body.endsAt ? new Date(body.endsAt).toISOString() : '';
      await client.request('POST', '/v1/reservations', {
        body: { flavor: body.flavor, count: body.count, endsAt, ...(body.project ? { project: body.project } : {}) },
      });
      onCreated();
    } catch (error) {
      setFailure(explain(error));
    }
  };
  return (
    <Form isHorizontal onSubmit={(e) => void create(e)}>
      <FormGroup label="Flavor" fieldId="reservation-flavor">
        <FormSelect id="reservation-flavor" value={body.flavor} onChange={(_e, flavor) => set({ flavor })}>
          <FormSelectOption value="" label="Choose a flavor" isPlaceholder />
          {(catalog.data?.flavors ?? []).map((f) => (
            <FormSelectOption key={f.id} value={f.name} label={f.name} />
          ))}
        </FormSelect>
        <FieldError failure={failure} name="flavor" />
      </FormGroup>
      <FormGroup label="Count" fieldId="reservation-count">
        <NumberInput
          id="reservation-count"
          value={body.count}
          min={1}
          onMinus={() => set({ count: Math.max(1, body.count - 1) })}
          onPlus={() => set({ count: body.count + 1 })}
          onChange={(e) => set({ count: Number((e.target as HTMLInputElement).value) })}
          inputAriaLabel="Count"
          minusBtnAriaLabel="Fewer"
          plusBtnAriaLabel="More"
        />
        <FieldError failure={failure} name="count" />
      </FormGroup>
      <FormGroup label="For project" fieldId="reservation-project">
        <FormSelect id="reservation-project" value={body.project} onChange={(_e, project) => set({ project })}>
          <FormSelectOption value="" label="any project" />
          {(projects.data ?? []).map((p) => (
            <FormSelectOption key={p.id} value={p.id} label={p.name} />
          ))}
        </FormSelect>
        <FieldError failure={failure} name="project" />
      </FormGroup>
      <FormGroup label="Ends" fieldId="reservation-ends">
        <TextInput
          id="reservation-ends"
          type="datetime-local"
          value={body.endsAt}
          onChange={(_e, endsAt) => set({ endsAt })}
        />
        <FieldError failure={failure} name="endsAt" />
      </FormGroup>
      <FormFailure failure={failure} />
      <ActionGroup>
        <Button type="submit">Reserve</Button>
      </ActionGroup>
    </Form>
  );
}
