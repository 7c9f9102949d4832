export * from './api';
export * from './tier';
export * from './client';
export * from './bulk';
export * from './errors';
export { keygateAccessLogFormat } from './access-log';
export { parseRoute, formatRoute, methodSettingsKey, ParsedRoute, HTTP_METHODS } from './route';
