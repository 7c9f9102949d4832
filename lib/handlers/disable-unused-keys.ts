/*
 * The key-hygiene job (a scheduled Lambda function): disables the keys of an API's tiers that
 * had no requests for N days, and tells the owner. Keys that a CloudFormation stack or a
 * keygate client set manages are left alone unless the construct was told otherwise: a
 * change made here would drift from the code that owns them. Keys that a secret's rotation
 * schedule owns are always left alone: the schedule retires them, and disabling the current
 * one would leave its client without a working key. Keys that a developer portal made are
 * always left to the portal: its job applies the portal's own `disableUnusedAfter` and marks
 * the subscription `idle`, so the consumer and the admin see why (lib/handlers/portal/maintenance.ts).
 */
import { UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { portalOf, rotationSecretOf } from '../shared/managed';
import { findUnusedKeys } from '../sdk/unused';
import { eachKey, finishRun, KeyJobDependencies, lambdaKeyJobDependencies, notifyOwner } from './notify';

export interface DisableUnusedKeysEvent {
  /** The API's usage plans: only their keys are looked at. */
  readonly usagePlanIds: string[];
  readonly days: number;
  /** Also disable keys that a CloudFormation stack or a client set manages (never a rotation schedule's keys). */
  readonly includeManagedKeys?: boolean;
}

export interface HygieneReport {
  readonly from: string;
  readonly to: string;
  readonly disabled: string[];
  /** Unused keys left alone because IaC or a rotation schedule manages them. */
  readonly skippedManaged: string[];
  /** Unused keys left to the developer portal that made them (its own idle rule applies). */
  readonly leftToPortal: string[];
  readonly failures: string[];
}

export async function disableUnusedKeys(deps: KeyJobDependencies, event: DisableUnusedKeysEvent): Promise<HygieneReport> {
  const report = await findUnusedKeys(deps.apigw, { days: event.days, usagePlanIds: event.usagePlanIds, now: deps.now });
  const disabled: string[] = [];
  const skippedManaged: string[] = [];
  const leftToPortal: string[] = [];
  const candidates = report.unused.filter((k) => k.enabled);
  const failures = await eachKey(candidates, async (key) => {
    if (portalOf(key) !== undefined) return void leftToPortal.push(key.id);
    const ownedByRotation = rotationSecretOf(key) !== undefined;
    if (key.managed && (!event.includeManagedKeys || ownedByRotation)) return void skippedManaged.push(key.id);
    await deps.apigw.send(new UpdateApiKeyCommand({ apiKey: key.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
    disabled.push(key.id);
    await notifyOwner(deps.sns, deps.topicArn, {
      event: 'keygate.key.unused',
      subject: `keygate: API key ${key.name || key.id} unused for ${event.days} days, disabled`,
      keyId: key.id, keyName: key.name, customerId: key.customerId, unusedFrom: report.from, unusedTo: report.to,
    });
  });
  return { from: report.from, to: report.to, disabled, skippedManaged, leftToPortal, failures };
}

/** The Lambda entry point; a run with failures ends in an error. */
export async function handler(event: DisableUnusedKeysEvent): Promise<HygieneReport> {
  const report = await disableUnusedKeys(lambdaKeyJobDependencies(), event);
  return finishRun('hygiene', report, report);
}
