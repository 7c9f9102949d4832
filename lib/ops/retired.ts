import { APIGatewayClient, DeleteApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { parseDescription } from '../shared/manifest';
import { isNotFound, UsageError } from '../sdk/errors';
import { listApiKeys } from '../sdk/paginate';

export interface RetiredKey {
  readonly id: string;
  readonly name: string;
  /** The request that retired it. */
  readonly retiredBy: string;
}

export interface CleanUpOptions {
  /** List only, delete nothing. */
  readonly dryRun?: boolean;
  /** Called after each delete with the number done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * The explicit clean-up of a client set: deletes the keys its last updates retired (removed
 * clients, disabled and kept so that a rollback could restore them). The set's next deploy
 * that changes it would delete them too; this frees their share of the 10,000-key quota now.
 * Keys of the set that are in use are never touched.
 */
export async function cleanUpRetiredKeys(client: APIGatewayClient, setId: string, options: CleanUpOptions = {}): Promise<{ retired: RetiredKey[]; deleted: number }> {
  if (!setId) throw new UsageError('Name the client set: --set SET_ID (its keys\' descriptions start with [keygate:client-set=SET_ID …]).');
  const retired: RetiredKey[] = [];
  for (const key of await listApiKeys(client)) {
    const marker = parseDescription(key.description)?.marker;
    if (marker?.setId === setId && marker.retired !== undefined && key.enabled !== true) {
      retired.push({ id: key.id ?? '', name: key.name ?? '', retiredBy: marker.retired });
    }
  }
  if (options.dryRun) return { retired, deleted: 0 };
  let deleted = 0;
  for (const key of retired) {
    try {
      await client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    deleted++;
    options.onProgress?.(deleted, retired.length);
  }
  return { retired, deleted };
}
