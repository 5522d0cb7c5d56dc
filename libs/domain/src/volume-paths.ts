import type { FieldError } from './field-error';

/** Where a container may not mount a volume: the kernel's and Docker's own trees, and the volumes' way in. */
const RESERVED = ['/proc', '/sys', '/dev', '/run/berth'];

/**
 * Whether `path` may be a container's mount point for a volume: absolute, written plainly (no `.`, `..` or empty
 * segment, no trailing slash, no control character), not `/` itself and not in or under a reserved tree. The
 * mount happens inside the container's own namespaces, so a path is the container's, never the host's.
 */
export function mountPathProblem(path: string, field = 'path'): FieldError | null {
  const bad = (message: string): FieldError => ({ field, rule: 'mountPath', message: `${field} ${message}` });
  if (!path.startsWith('/')) return bad('must be absolute (start with /)');
  if (path === '/') return bad('must not be / (the container’s root)');
  if (/[\u0000-\u001f\u007f]/.test(path)) return bad('must not hold control characters');
  const segments = path.slice(1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return bad('must be written plainly: no empty, . or .. segment, no trailing /');
  }
  const reserved = RESERVED.find((r) => path === r || path.startsWith(`${r}/`));
  if (reserved) return bad(`must not be in ${reserved}`);
  return null;
}
