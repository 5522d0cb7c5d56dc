export * from './disk';
export * from './domain-xml';
export * from './seed';
export * from './virt-type';
export * from './libvirt-driver';
export * from './image-cache';
export * from './disk-transfer';
