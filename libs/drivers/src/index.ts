export * from './compute-driver';
export * from './docker/authorized-keys';
export * from './docker/container-config';
export * from './docker/docker-driver';
export * from './fake/fake-driver';
export * from './registry';
export * from './libvirt';
export * from './terminal';
