export * from './block-device';
export * from './cgroup-limits';
export * from './io-throttle';
export * from './io-weight';
export * from './lxcfs';
export * from './mountinfo';
export * from './proc-cgroup';
export * from './cgroup-usage';
