export * from './enroll';
export * from './prerequisites';
export * from './ssh';
