import { FormSelect, FormSelectOption } from '@patternfly/react-core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useSession } from '../App';
import type { MyProjectList } from '../generated/api-types';
import { switchProject } from '../session';
import { ErrorAlert } from './ErrorAlert';

/** The projects the user holds a role in; choosing one moves the session there (a new token, the old one revoked). */
export function ProjectSwitcher() {
  const { session, client, move } = useSession();
  const navigate = useNavigate();
  const [failure, setFailure] = useState<unknown>(null);
  const mine = useQuery({
    queryKey: ['my-projects'],
    queryFn: () => client.get<MyProjectList>('/v1/auth/projects'),
  });
  const projects = mine.data?.items ?? [{ id: session.projectId, name: session.project, role: session.role }];
  const choose = async (id: string) => {
    const project = projects.find((p) => p.id === id);
    if (!project || id === session.projectId) return;
    setFailure(null);
    try {
      move(await switchProject(session, project));
      void navigate('/instances');
    } catch (error) {
      setFailure(error);
    }
  };
  return (
    <>
      {failure !== null && <ErrorAlert error={failure} />}
      <FormSelect
        value={session.projectId}
        onChange={(_event, id) => void choose(id)}
        aria-label="Project"
        data-testid="project-switcher"
      >
        {projects.map((p) => (
          <FormSelectOption key={p.id} value={p.id} label={`${p.name} (${p.role})`} />
        ))}
      </FormSelect>
    </>
  );
}
