/**
 * Naming rules. An instance name becomes the guest's hostname, so it must be one RFC 1123 label.
 * Other resources are referenced by name in requests (flavor "m1.small"), so they also allow dots
 * and underscores, but never whitespace, slashes or anything a shell or XML would treat specially.
 */
export const INSTANCE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const INSTANCE_NAME_RULE = '1-63 letters, digits and hyphens, not starting or ending with a hyphen';

export const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const RESOURCE_NAME_RULE = '1-63 letters, digits, ".", "_" and "-", starting with a letter or digit';

/** Host names are also queue names and interface-name inputs: lower case only. */
export const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * A Docker image reference as distribution/reference defines it: [registry[:port]/]path[:tag][@digest].
 * It never starts with "-", so it can never be read as an option by any tool it reaches.
 */
const DOMAIN_PART = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
export const DOCKER_REFERENCE = new RegExp(
  `^(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]{1,5})?/)?` +
    `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*` +
    '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?' +
    '(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$',
);
/**
 * A VM image file (disk, kernel, initrd) as the hosts reach it: an absolute path without "." or ".."
 * segments or characters a path never needs, or an http(s) URL without credentials.
 */
const VM_FILE_PATH = /^(\/[A-Za-z0-9_][A-Za-z0-9._-]{0,63}){1,16}$/;
export const VM_FILE_REF_RULE =
  'an absolute file path on the hosts (segments of letters, digits, ".", "_" and "-", none starting with ".") ' +
  'or an http(s) URL without credentials';

export function isVmFileRef(ref: string): boolean {
  if (VM_FILE_PATH.test(ref)) return true;
  if (ref.length > 1024 || /\s/.test(ref)) return false;
  try {
    const url = new URL(ref);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      !url.username &&
      !url.password &&
      url.pathname.length > 1
    );
  } catch {
    return false;
  }
}

/** A kernel command line: printable ASCII on one line. */
export const KERNEL_CMDLINE = /^[\x20-\x7e]{0,512}$/;

export const DOCKER_REFERENCE_RULE = 'a Docker image reference such as registry:5000/team/app:1.2';

/** Docker Hub, where a reference without a registry part points (Docker's own rule). */
export const DEFAULT_REGISTRY = 'docker.io';

/**
 * The registry an image reference pulls from: its first component when that names a host (has a "." or a
 * ":", or is "localhost"), else Docker Hub.
 */
export function registryOf(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash < 0) return DEFAULT_REGISTRY;
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : DEFAULT_REGISTRY;
}
