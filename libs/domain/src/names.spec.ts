import { DOCKER_REFERENCE, HOST_NAME, INSTANCE_NAME, RESOURCE_NAME, isUuid, registryOf } from './names';

describe('naming rules', () => {
  it.each(['web', 'web-1', 'A1', 'a'.repeat(63)])('instance name %j is a valid hostname label', (n) => {
    expect(INSTANCE_NAME.test(n)).toBe(true);
  });
  it.each(['', '-web', 'web-', 'web_1', 'web.1', 'a'.repeat(64), 'web 1', 'web;rm', '$(id)', 'wéb', 'web\n'])(
    'instance name %j is rejected',
    (n) => expect(INSTANCE_NAME.test(n)).toBe(false),
  );
  it.each(['m1.tiny', 'busybox', 'net_100', 'v1-2'])('resource name %j is valid', (n) => {
    expect(RESOURCE_NAME.test(n)).toBe(true);
  });
  it.each(['', '.hidden', '-x', 'a/b', '../x', 'a b', '<x>', 'a'.repeat(64)])('resource name %j is rejected', (n) => {
    expect(RESOURCE_NAME.test(n)).toBe(false);
  });
  it('host names are lower case labels', () => {
    expect(HOST_NAME.test('node-1')).toBe(true);
    expect(HOST_NAME.test('Node-1')).toBe(false);
  });
  it('recognises uuids', () => {
    expect(isUuid('0b5a7b7e-3f0e-4c43-9a39-0c6f6a1d2e3f')).toBe(true);
    expect(isUuid('0b5a7b7e')).toBe(false);
  });
});

describe('DOCKER_REFERENCE', () => {
  it.each([
    'busybox',
    'busybox:latest',
    '127.0.0.1:5000/busybox:latest',
    'registry.example.com/team/app_v2:1.2.3',
    `app@sha256:${'a'.repeat(64)}`,
  ])('accepts %j', (ref) => expect(DOCKER_REFERENCE.test(ref)).toBe(true));
  it.each(['', '-busybox', 'BusyBox', 'busybox:', 'a b', 'busybox;id', '../etc', 'busybox:$(id)', 'x:y:z'])(
    'rejects %j',
    (ref) => expect(DOCKER_REFERENCE.test(ref)).toBe(false),
  );
});

describe('registryOf', () => {
  it.each([
    ['127.0.0.1:5000/busybox:latest', '127.0.0.1:5000'],
    ['registry.example.com/team/app:1.2', 'registry.example.com'],
    ['localhost/app', 'localhost'],
    ['busybox', 'docker.io'],
    ['library/nginx:1.25', 'docker.io'],
    ['team/app@sha256:' + 'a'.repeat(64), 'docker.io'],
  ])('%s pulls from %s', (ref, registry) => expect(registryOf(ref)).toBe(registry));
});
