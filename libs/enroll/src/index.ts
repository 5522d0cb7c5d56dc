export * from './enroll';
export * from './keys';
export * from './prerequisites';
export * from './ssh';
