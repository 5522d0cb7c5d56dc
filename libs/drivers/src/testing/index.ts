export * from './driver-contract';
