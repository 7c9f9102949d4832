export * from './api';
export * from './tier';
export * from './client';
export * from './bulk';
export { KeygateError, KeygateErrors } from './errors';
export { KeygateAccessLogFormat } from './access-log';
export { Route } from './route';
export type { ParsedRoute } from './route';
