/**
 * Roles a token holds in its project. admin is the cloud operator (every project); member reads and
 * writes in its project; reader only reads there.
 */
export const ROLES = ['reader', 'member', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` grants no more than `ceiling` (a user may mint tokens up to its own role). */
export function roleAtMost(role: Role, ceiling: Role): boolean {
  return ROLES.indexOf(role) <= ROLES.indexOf(ceiling);
}
