import {
  Button,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadLogo,
  MastheadMain,
  Nav,
  NavItem,
  NavList,
  Page,
  PageSidebar,
  PageSidebarBody,
  SkipToContent,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { useSession } from '../App';
import { ProjectSwitcher } from './ProjectSwitcher';

const SECTIONS = [
  { to: '/instances', label: 'Instances', admin: false },
  { to: '/project', label: 'Project', admin: false },
  { to: '/resources', label: 'Resources', admin: false },
  { to: '/hosts', label: 'Hosts', admin: true },
  { to: '/peak', label: 'Peak preparation', admin: true },
];

/** The console's frame: who is logged in where, the sections, and the page. */
export function Layout({ children }: { children: ReactNode }) {
  const { session, end } = useSession();
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadBrand>
          <MastheadLogo component="span">Berth</MastheadLogo>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            <ToolbarItem align={{ default: 'alignEnd' }}>
              <span data-testid="who">
                {session.user} in {session.project} ({session.role})
              </span>
            </ToolbarItem>
            <ToolbarItem>
              <ProjectSwitcher />
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="secondary" onClick={end}>
                Log out
              </Button>
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );
  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Sections">
          <NavList>
            {SECTIONS.filter((s) => !s.admin || session.role === 'admin').map((s) => (
              <NavItem key={s.to}>
                <NavLink to={s.to}>{s.label}</NavLink>
              </NavItem>
            ))}
          </NavList>
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    <Page
      masthead={masthead}
      sidebar={sidebar}
      isManagedSidebar
      mainContainerId="main"
      skipToContent={<SkipToContent href="#main">Skip to content</SkipToContent>}
    >
      {children}
    </Page>
  );
}
