import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

/** What a job that changes keys and tells the owner works with. */
export interface KeyJobDependencies {
  readonly apigw: APIGatewayClient;
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly now: () => number;
}

/** The dependencies in Lambda: SDK clients with adaptive retry, the topic from TOPIC_ARN, the real clock. */
export function lambdaKeyJobDependencies(): KeyJobDependencies {
  return { apigw: new APIGatewayClient({ retryMode: 'adaptive' }), sns: new SNSClient({}), topicArn: process.env.TOPIC_ARN ?? '', now: Date.now };
}

/**
 * Logs a run's summary and ends a run with failures in an error, so that it shows in the
 * function's Errors metric and EventBridge retries it.
 */
export function finishRun<T extends { readonly failures: string[] }>(job: string, report: T, summary: unknown): T {
  console.log(JSON.stringify(summary));
  if (report.failures.length > 0) throw new Error(`keygate ${job} job: ${report.failures.length} key(s) failed: ${report.failures.join('; ')}`);
  return report;
}

/** What a lifecycle job tells the owner about one key. */
export interface KeyNotice {
  /** e.g. `keygate.key.expired` */
  readonly event: string;
  readonly subject: string;
  readonly keyId: string;
  readonly keyName?: string;
  readonly customerId?: string;
  readonly [detail: string]: string | number | undefined;
}

/**
 * Publishes a notice to the owner's topic: a JSON message, and the key id and customer id as
 * message attributes so that a subscription can filter for one customer. Never a key value.
 */
export async function notifyOwner(sns: SNSClient, topicArn: string, notice: KeyNotice): Promise<void> {
  const attributes: Record<string, { DataType: string; StringValue: string }> = { keyId: { DataType: 'String', StringValue: notice.keyId } };
  if (notice.customerId) attributes.customerId = { DataType: 'String', StringValue: notice.customerId };
  // SNS subjects: at most 100 printable ASCII characters.
  const subject = notice.subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: JSON.stringify(notice), MessageAttributes: attributes }));
}

/** Runs `work` for each item; collects failures instead of stopping, so one bad key doesn't hold up the rest. */
export async function eachKey<T>(items: T[], work: (item: T) => Promise<void>): Promise<string[]> {
  const failures: string[] = [];
  for (const item of items) {
    try {
      await work(item);
    } catch (e) {
      failures.push(`${String((item as { id?: string }).id ?? item)}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  return failures;
}
