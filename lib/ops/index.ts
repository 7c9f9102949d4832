/**
 * keygate's ops library: the key lifecycle of a deployed API through the AWS SDK. The CLI
 * (`keygate keys …`, `usage`, `smoke`) is a thin layer over these functions.
 * (`renderUsageChart` lives in './chart' and is not re-exported: it inlines chart.js, 200 kB.)
 */
export { createClients, isLoopbackEndpoint, DEFAULT_MAX_ATTEMPTS } from './client';
export type { ConnectionOptions, OpsClients } from './client';
export { OpsError, UsageError, explainError } from './errors';
export { isManagedKey, managedKeyReason, managedBy, CLIENT_SET_TAG, CLIENT_SET_DESCRIPTION_PREFIX } from '../shared/managed';
export type { ManagedBy, KeyLike } from '../shared/managed';
export { collectPages, listApiKeys, listUsagePlans, listUsagePlanKeys, PAGE_SIZE } from '../sdk/paginate';
export { ControlPlaneLimiter, TokenBucket, Mutex, applyControlPlaneLimits } from '../sdk/rate-limit';
export type { ControlPlaneLimits } from '../sdk/rate-limit';
export { resolveKey, resolvePlan, findPlan, planStages } from '../sdk/resolve';
export { listKeys, showKey, setKeyEnabled, deleteKey, namePattern } from './keys';
export type { KeyInfo, PlanRef, ListKeysOptions } from './keys';
export { importKeys, parseKeyFile, validateKeyFile, toKeyFileCsv } from '../sdk/import-keys';
export type { ImportOptions, ImportResult, ImportProblem, KeyFileRow, ValidatedRow } from '../sdk/import-keys';
export {
  rotateKey, retireKey, findSuccessor, successorName, parseDuration, generateKeyValue,
  TAG_ROTATION_OF, TAG_RETIRE_AFTER, TAG_GENERATION, TAG_BASE_NAME, TAG_SECRET_ARN,
} from './rotate';
export type { RotateOptions, RotateResult, RetireOptions, RetireResult, RotationStep } from './rotate';
export { usageReport, usageToCsv, getPlanUsage } from './usage';
export type { UsageOptions, UsageReport, UsageRow } from './usage';
export { runSmoke, parseRoute, parseStageUrl, burstForUrl, smokeKeyFromRef, smokeKeyFromValue } from './smoke';
export type { SmokeOptions, SmokeResult, SmokeCheck } from './smoke';
