import { DeleteUsagePlanKeyCommand, GetUsagePlanCommand, NotFoundException, UntagResourceCommand } from '@aws-sdk/client-api-gateway';
import { FakeApiGateway } from '../ops/fake-apigw';

/**
 * The ops tests' in-memory API Gateway, plus the calls the client set makes that the ops
 * CLI does not (DeleteUsagePlanKey, UntagResource, GetUsagePlan).
 */
export class BulkFakeGateway extends FakeApiGateway {
  constructor() {
    super();
    this.apigwMock.on(DeleteUsagePlanKeyCommand).callsFake((i: { usagePlanId: string; keyId: string }) => {
      this.calls.push('DeleteUsagePlanKey');
      const keys = this.planKeys.get(i.usagePlanId);
      if (!keys?.delete(i.keyId)) throw new NotFoundException({ message: 'Invalid Usage Plan Key identifier specified', $metadata: { httpStatusCode: 404 } });
      return {};
    });
    this.apigwMock.on(GetUsagePlanCommand).callsFake((i: { usagePlanId: string }) => {
      this.calls.push('GetUsagePlan');
      const plan = this.plans.get(i.usagePlanId);
      if (!plan) throw new NotFoundException({ message: 'Invalid Usage Plan ID specified', $metadata: { httpStatusCode: 404 } });
      return plan;
    });
    this.apigwMock.on(UntagResourceCommand).callsFake((i: { resourceArn: string; tagKeys: string[] }) => {
      this.calls.push('UntagResource');
      const key = this.keys.get(/\/apikeys\/(.+)$/.exec(i.resourceArn)?.[1] ?? '');
      if (!key) throw new NotFoundException({ message: 'Invalid resource identifier specified', $metadata: { httpStatusCode: 404 } });
      key.tags = Object.fromEntries(Object.entries(key.tags ?? {}).filter(([k]) => !i.tagKeys.includes(k)));
      return {};
    });
  }

  /** Names of the keys whose description starts with `marker`, sorted. */
  namesOwnedBy(marker: string): string[] {
    return [...this.keys.values()].filter((k) => (k.description ?? '').startsWith(marker)).map((k) => k.name ?? '').sort();
  }

  keyByName(name: string) {
    return [...this.keys.values()].find((k) => k.name === name);
  }

  /** Write calls recorded, in order. */
  writeCalls(): string[] {
    return this.calls.filter((c) => !c.startsWith('Get'));
  }
}
