export * from './config';
export * from './exec';
export * from './failpoints';
export * from './logger';
export * from './process';
export * from './revert';
export * from './env';
export * from './keyed-lock';
