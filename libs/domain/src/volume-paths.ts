import { invalid, ok, type Checked, type FieldError } from './field-error';
import { isUuid } from './names';

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

/** What a VM's guest reads as a disk's serial: virtio keeps 20 bytes. */
export const VOLUME_SERIAL = /^[A-Za-z0-9_-]{1,20}$/;
export const VOLUME_SERIAL_RULE = '1 to 20 letters, digits, - or _';

/** The most volumes an instance is built with (a VM's disks after its own and its config drive run to vdz). */
export const MAX_BUILD_VOLUMES = 8;

/** A volume to attach: its id, and where a container mounts it or the serial a VM's guest reads. */
export interface VolumeRequest {
  volume: string;
  path?: string;
  serial?: string;
  /** Deleted with the instance (Nova's delete_on_termination); by default it stays, available. */
  deleteOnTermination?: boolean;
}

/**
 * Checks the volumes an instance is to be built with (`volumes: [{volume, path?, serial?}]`): at most
 * MAX_BUILD_VOLUMES, each a volume id named once; a container's each at its own plain mount point, a VM's with a
 * serial or none. Field names say which entry: `volumes[1].path`. Ids come back in lower case.
 */
export function checkVolumeRequests(
  input: unknown,
  kind: 'container' | 'vm',
  field = 'volumes',
): Checked<VolumeRequest[]> {
  if (!Array.isArray(input)) return invalid(field, 'array', `${field} must be a list of {volume, path?, serial?}`);
  if (input.length > MAX_BUILD_VOLUMES) {
    return invalid(field, 'maxSize', `${field} may hold at most ${MAX_BUILD_VOLUMES} volumes`);
  }
  const errors: FieldError[] = [];
  const found: VolumeRequest[] = [];
  input.forEach((raw: unknown, i) => {
    const at = `${field}[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push({ field: at, rule: 'object', message: `${at} must be an object {volume, path?, serial?}` });
      return;
    }
    const { volume, path, serial, deleteOnTermination, ...rest } = raw as Record<string, unknown>;
    for (const key of Object.keys(rest)) {
      errors.push({ field: `${at}.${key}`, rule: 'unknown', message: `${at}.${key} is not a field of a volume` });
    }
    const problem =
      deleteOnTermination !== undefined && typeof deleteOnTermination !== 'boolean'
        ? {
            field: `${at}.deleteOnTermination`,
            rule: 'boolean',
            message: `${at}.deleteOnTermination must be true or false`,
          }
        : entryProblem(at, kind, { volume, path, serial }, found);
    if (problem) errors.push(problem);
    else {
      found.push({
        volume: (volume as string).toLowerCase(),
        ...(path === undefined ? {} : { path: path as string }),
        ...(serial === undefined ? {} : { serial: serial as string }),
        ...(deleteOnTermination === true ? { deleteOnTermination } : {}),
      });
    }
  });
  return errors.length > 0 ? { ok: false, errors } : ok(found);
}

function entryProblem(
  at: string,
  kind: 'container' | 'vm',
  e: Record<'volume' | 'path' | 'serial', unknown>,
  earlier: readonly VolumeRequest[],
): FieldError | null {
  const no = (key: string, rule: string, message: string): FieldError => ({
    field: `${at}.${key}`,
    rule,
    message: `${at}.${key} ${message}`,
  });
  if (typeof e.volume !== 'string' || !isUuid(e.volume)) return no('volume', 'uuid', 'must be a volume id');
  if (earlier.some((r) => r.volume === (e.volume as string).toLowerCase())) {
    return no('volume', 'unique', 'names a volume already in the list');
  }
  if (kind === 'vm') {
    if (e.path !== undefined) return no('path', 'kind', 'is for containers: a VM sees the volume as a disk');
    if (e.serial !== undefined && (typeof e.serial !== 'string' || !VOLUME_SERIAL.test(e.serial))) {
      return no('serial', 'serial', `must be ${VOLUME_SERIAL_RULE}`);
    }
    return null;
  }
  if (e.serial !== undefined) return no('serial', 'kind', 'is for VMs: a container mounts at path');
  if (e.path === undefined) return no('path', 'required', 'is required for a container');
  if (typeof e.path !== 'string' || e.path.length > 255)
    return no('path', 'string', 'must be a path of up to 255 characters');
  const problem = mountPathProblem(e.path, `${at}.path`);
  if (problem) return problem;
  if (earlier.some((r) => r.path === e.path))
    return no('path', 'unique', 'is the mount point of another volume in the list');
  return null;
}
