import {
  ActionGroup,
  Button,
  Flex,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  TextInput,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../App';
import { ENUMS, type MemberList, type ProjectList, type QuotaView } from '../../generated/api-types';
import { explain } from '../../session';
import { FieldError, FormFailure, type Failure } from '../FieldError';

const ROLES = ENUMS.SetMemberDto.role;
/** The quota's lines, as the API names the resources it counts. */
const LIMITS = ENUMS.QuotaExcessView.resource;

/** A project's members and roles (its project-admin's and the cloud admin's), and its quotas (the cloud admin's). */
export function ProjectAdmin() {
  const { client, session } = useSession();
  const projects = useQuery({
    queryKey: ['projects'],
    queryFn: async () => (await client.get<ProjectList>('/v1/projects')).items,
  });
  const [projectId, setProjectId] = useState(session.projectId);
  return (
    <Flex direction={{ default: 'column' }}>
      <FormGroup label="Project" fieldId="admin-project">
        <FormSelect id="admin-project" value={projectId} onChange={(_e, v) => setProjectId(v)}>
          {(projects.data ?? []).map((p) => (
            <FormSelectOption key={p.id} value={p.id} label={p.name} />
          ))}
        </FormSelect>
      </FormGroup>
      <Members projectId={projectId} />
      {session.role === 'admin' && <Quotas key={projectId} projectId={projectId} />}
    </Flex>
  );
}

function Members({ projectId }: { projectId: string }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const members = useQuery({
    queryKey: ['members', projectId],
    queryFn: async () => (await client.get<MemberList>(`/v1/projects/${projectId}/members`)).items,
  });
  const [user, setUser] = useState('');
  const [role, setRole] = useState<(typeof ROLES)[number]>('member');
  const [failure, setFailure] = useState<Failure | null>(null);
  const change = async (name: string, body: { role: string } | null) => {
    setFailure(null);
    try {
      const path = `/v1/projects/${projectId}/members/${encodeURIComponent(name)}`;
      await (body ? client.request('PUT', path, { body }) : client.request('DELETE', path));
      await queries.invalidateQueries({ queryKey: ['members', projectId] });
    } catch (error) {
      setFailure(explain(error));
    }
  };
  const add = (event: FormEvent) => {
    event.preventDefault();
    void change(user, { role });
  };
  return (
    <section aria-label="Members">
      <Title headingLevel="h2">Members</Title>
      <Table aria-label="Members" variant="compact">
        <Thead>
          <Tr>
            <Th>User</Th>
            <Th>Role</Th>
            <Th screenReaderText="Actions" />
          </Tr>
        </Thead>
        <Tbody>
          {(members.data ?? []).map((m) => (
            <Tr key={m.userId} data-member={m.userName}>
              <Td dataLabel="User">{m.userName}</Td>
              <Td dataLabel="Role">{m.role}</Td>
              <Td dataLabel="Actions">
                <Button variant="secondary" size="sm" onClick={() => void change(m.userName, null)}>
                  Remove
                </Button>
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      <Form isHorizontal onSubmit={add}>
        <FormGroup label="User" fieldId="member-user">
          <TextInput id="member-user" value={user} onChange={(_e, v) => setUser(v)} />
          <FieldError failure={failure} name="user" />
        </FormGroup>
        <FormGroup label="Role" fieldId="member-role">
          <FormSelect id="member-role" value={role} onChange={(_e, v) => setRole(v as typeof role)}>
            {ROLES.map((r) => (
              <FormSelectOption key={r} value={r} label={r} />
            ))}
          </FormSelect>
          <FieldError failure={failure} name="role" />
        </FormGroup>
        <FormFailure failure={failure} />
        <ActionGroup>
          <Button type="submit">Set role</Button>
        </ActionGroup>
      </Form>
    </section>
  );
}

function Quotas({ projectId }: { projectId: string }) {
  const { client } = useSession();
  const quota = useQuery({
    queryKey: ['instances', 'quota', projectId],
    queryFn: () => client.get<QuotaView>(`/v1/projects/${projectId}/quotas`),
  });
  const [limits, setLimits] = useState<Partial<Record<(typeof LIMITS)[number], string>>>({});
  const [failure, setFailure] = useState<Failure | null>(null);
  const [saved, setSaved] = useState(false);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    setSaved(false);
    const body = Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, Number(v)]));
    try {
      await client.request('PUT', `/v1/projects/${projectId}/quotas`, { body });
      setSaved(true);
      await quota.refetch();
    } catch (error) {
      setFailure(explain(error));
    }
  };
  return (
    <section aria-label="Quotas">
      <Title headingLevel="h2">Quotas</Title>
      <Form isHorizontal onSubmit={(e) => void save(e)}>
        {LIMITS.map((key) => (
          <FormGroup key={key} label={`${key} (used ${quota.data?.[key].used ?? '…'})`} fieldId={`quota-${key}`}>
            <TextInput
              id={`quota-${key}`}
              type="number"
              value={limits[key] ?? String(quota.data?.[key].limit ?? '')}
              onChange={(_e, v) => setLimits((old) => ({ ...old, [key]: v }))}
            />
            <FieldError failure={failure} name={key} />
          </FormGroup>
        ))}
        {saved && <p role="status">Saved.</p>}
        <ActionGroup>
          <Button type="submit">Save quotas</Button>
        </ActionGroup>
      </Form>
    </section>
  );
}
