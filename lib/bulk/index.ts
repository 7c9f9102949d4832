export * from './client-set';
export { ClientSetSource } from './source';
