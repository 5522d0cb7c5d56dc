/**
 * Roles, lowest first. In a project: reader only reads; member reads and writes; project-admin also manages the
 * project's members and their tokens, and nothing else. admin is the cloud operator: every project and the cloud's
 * own resources (hosts, flavors, networks, projects, users). It is held as a role in the admin project, as
 * Keystone's admin role on its admin project, and never in any other project.
 */
export const ROLES = ['reader', 'member', 'project-admin', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The roles a user may hold in a project other than the admin project. */
export const PROJECT_ROLES = ['reader', 'member', 'project-admin'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** The project whose admin role makes a cloud admin (made at bootstrap). */
export const ADMIN_PROJECT = 'admin';

/** Whether `role` grants no more than `ceiling` (a user may mint tokens up to its own role). */
export function roleAtMost(role: Role, ceiling: Role): boolean {
  return ROLES.indexOf(role) <= ROLES.indexOf(ceiling);
}
