/*
 * The key-expiry job (a scheduled Lambda function): for each watched key, reads its expiry
 * from its tags, disables a key past it and tells the owner. Idempotent: a disabled key is
 * left alone, so a run after a deploy that re-enabled a key disables it again. A key that a
 * developer portal made is left to the portal, whose job applies the same rule and records the
 * subscription as `expired` (lib/handlers/portal/maintenance.ts).
 */
import { GetApiKeyCommand, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { isNotFound } from '../sdk/errors';
import { expiryOf } from '../shared/expiry-rule';
import { portalOf } from '../shared/managed';
import { eachKey, finishRun, KeyJobDependencies, lambdaKeyJobDependencies, notifyOwner } from './notify';

export interface ExpireKeysEvent {
  readonly keyIds: string[];
}

export type ExpiryOutcome = 'disabled' | 'expired, already disabled' | 'not expired' | 'no expiry' | 'deleted' | 'left to its portal';

export interface ExpiryReport {
  readonly keys: { readonly id: string; readonly outcome: ExpiryOutcome; readonly expiresAt?: string }[];
  readonly failures: string[];
}

export async function expireKeys(deps: KeyJobDependencies, keyIds: string[]): Promise<ExpiryReport> {
  const keys: ExpiryReport['keys'][number][] = [];
  const failures = await eachKey([...new Set(keyIds)], async (id) => {
    let key;
    try {
      key = await deps.apigw.send(new GetApiKeyCommand({ apiKey: id, includeValue: false }));
    } catch (e) {
      if (isNotFound(e)) return void keys.push({ id, outcome: 'deleted' });
      throw e;
    }
    if (portalOf(key) !== undefined) return void keys.push({ id, outcome: 'left to its portal' });
    const expiry = expiryOf({ createdDate: key.createdDate?.getTime() ?? 0, tags: key.tags });
    if (expiry === undefined) return void keys.push({ id, outcome: 'no expiry' });
    const expiresAt = new Date(expiry).toISOString();
    const now = deps.now();
    if (now < expiry) return void keys.push({ id, outcome: 'not expired', expiresAt });
    if (!key.enabled) return void keys.push({ id, outcome: 'expired, already disabled', expiresAt });
    await deps.apigw.send(new UpdateApiKeyCommand({ apiKey: id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
    keys.push({ id, outcome: 'disabled', expiresAt });
    await notifyOwner(deps.sns, deps.topicArn, {
      event: 'keygate.key.expired',
      subject: `keygate: API key ${key.name ?? id} expired and was disabled`,
      keyId: id, keyName: key.name, customerId: key.customerId, expiresAt, disabledAt: new Date(now).toISOString(),
    });
  });
  return { keys, failures };
}

/** The Lambda entry point; a run with failures ends in an error. */
export async function handler(event: ExpireKeysEvent): Promise<ExpiryReport> {
  const report = await expireKeys(lambdaKeyJobDependencies(), event.keyIds ?? []);
  return finishRun('expiry', report, { keys: report.keys.length, disabled: report.keys.filter((k) => k.outcome === 'disabled').map((k) => k.id), failures: report.failures });
}
