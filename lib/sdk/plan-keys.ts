/*
 * Putting a key in a usage plan, as every writer of plan keys needs it: CreateUsagePlanKey's
 * 409 means two things, and only "the key is in the plan already" is done
 * (errors.ts isAlreadyInPlan); a concurrent modification is thrown for the caller to retry.
 */
import { APIGatewayClient, CreateUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { isAlreadyInPlan } from './errors';

/** Puts the key in the plan; a key that is in it already is left as it is. */
export async function addKeyToPlan(client: APIGatewayClient, usagePlanId: string, keyId: string): Promise<void> {
  try {
    await client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' }));
  } catch (err) {
    if (!isAlreadyInPlan(err)) throw err;
  }
}
