export * from './capacity';
export * from './field-error';
export * from './instance-states';
export * from './ipam';
export * from './names';
export * from './scheduling/rank';
export * from './scheduling/types';
export * from './scheduling/weighers';
