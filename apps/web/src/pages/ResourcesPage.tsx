import { PageSection, Tab, Tabs, TabTitleText, Title } from '@patternfly/react-core';
import { useSession } from '../App';
import { ProjectAdmin } from '../components/resources/ProjectAdmin';
import {
  AGGREGATES,
  FLAVORS,
  IMAGES,
  NETWORKS,
  PROJECTS,
  SERVER_GROUPS,
  TOKENS,
  USERS,
  type ResourceDef,
} from '../components/resources/resource-defs';
import { ResourceTable } from '../components/resources/ResourceTable';

const DEFS = [FLAVORS, IMAGES, NETWORKS, SERVER_GROUPS, TOKENS, AGGREGATES, PROJECTS, USERS] as Array<
  ResourceDef<{ id: string }>
>;

/** The cloud's catalogue and tenancy: what each may see, create and delete by its role. */
export function ResourcesPage() {
  const { session } = useSession();
  const tabs = DEFS.filter((d) => !d.roles || d.roles.includes(session.role)).map((def) => (
    <Tab key={def.key} eventKey={def.key} title={<TabTitleText>{def.title}</TabTitleText>}>
      <ResourceTable def={def} />
    </Tab>
  ));
  if (session.role === 'admin' || session.role === 'project-admin') {
    tabs.push(
      <Tab key="members" eventKey="members" title={<TabTitleText>Members and quotas</TabTitleText>}>
        <ProjectAdmin />
      </Tab>,
    );
  }
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">Resources</Title>
      </PageSection>
      <PageSection>
        <Tabs defaultActiveKey={DEFS[0]?.key} mountOnEnter unmountOnExit aria-label="Resources">
          {tabs}
        </Tabs>
      </PageSection>
    </>
  );
}
