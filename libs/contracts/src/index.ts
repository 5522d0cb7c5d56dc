export * from './instance';
export * from './jobs';
export * from './queues';
export * from './reports';
