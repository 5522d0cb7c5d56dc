export * from './instance';
export * from './jobs';
export * from './limits';
export * from './migration';
export * from './queues';
export * from './reports';
export * from './terminal';
export * from './usage';
