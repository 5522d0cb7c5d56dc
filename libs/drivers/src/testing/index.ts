export * from './driver-contract';
export * from './sample-spec';
