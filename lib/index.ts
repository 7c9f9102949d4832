export * from './api';
export * from './tier';
export * from './client';
export * from './key-rotation';
export * from './bulk';
export * from './errors';
export { keygateAccessLogFormat } from './access-log';
export { parseRoute, formatRoute, methodSettingsKey, HTTP_METHODS } from './route';
export type { ParsedRoute } from './route';
