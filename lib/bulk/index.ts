export * from './client-set';
export { ClientSetSource, CLIENT_SET_CSV_COLUMNS } from './source';
