/**
 * The local SNS's subscriptions (from AWS::SNS::Subscription, a topic's `Subscription`
 * property, or the Subscribe API) and their deliveries; see delivery.ts for what each protocol
 * gets. Also the unsigned links SNS hands out: the signing certificate, SubscribeURL and
 * UnsubscribeURL (a token or an unguessable ARN suffix makes each one act on one subscription).
 */
import { randomBytes, randomUUID } from 'crypto';
import {
  confirmationEnvelope, DeliveryOptions, textFor, DeliveryRecord, isLoopbackUrl, lambdaEvent, notificationEnvelope, OutgoingMessage, postEnvelope, SNS_LINK_PREFIX, Subscription,
} from './delivery';
import { LocalServiceResponse, xmlText as xml } from '../service-error';

/** A subscription of the cloud assembly, as the model builder found it. */
export interface SubscriptionSeed {
  readonly topicArn: string;
  readonly protocol: string;
  readonly endpoint: string;
  readonly rawMessageDelivery?: boolean;
}

/** Protocols SNS knows; those delivered locally are in DELIVERED. */
export const PROTOCOLS = new Set(['http', 'https', 'email', 'email-json', 'sms', 'sqs', 'application', 'lambda', 'firehose']);
const PRINTED = new Set(['email', 'email-json', 'sms']);
/** How many deliveries the slice keeps for the dashboard. */
const MAX_KEPT_DELIVERIES = 500;

export class SnsSubscriptions {
  private readonly subs = new Map<string, Subscription>();
  private readonly kept: DeliveryRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: DeliveryOptions) {}

  /** Deliveries (and refusals), oldest first. */
  get deliveries(): readonly DeliveryRecord[] {
    return this.kept;
  }

  list(topicArn?: string): Subscription[] {
    return [...this.subs.values()].filter((s) => topicArn === undefined || s.topicArn === topicArn);
  }

  /** Adds a subscription; an HTTP one is sent its SubscriptionConfirmation (once the gateway listens: `confirmPending`). */
  add(seed: SubscriptionSeed, sendConfirmation: boolean): Subscription {
    const existing = this.list(seed.topicArn).find((s) => s.protocol === seed.protocol && s.endpoint === seed.endpoint);
    if (existing) return existing;
    const http = seed.protocol === 'http' || seed.protocol === 'https';
    const sub: Subscription = {
      arn: `${seed.topicArn}:${randomUUID()}`, topicArn: seed.topicArn, protocol: seed.protocol, endpoint: seed.endpoint,
      confirmed: !http, token: randomBytes(32).toString('hex'), rawMessageDelivery: seed.rawMessageDelivery === true,
    };
    this.subs.set(sub.arn, sub);
    if (http && sendConfirmation) this.track(this.sendConfirmation(sub));
    return sub;
  }

  /** Sends the SubscriptionConfirmation of every HTTP subscription still pending (the template's, at start). */
  confirmPending(): void {
    for (const sub of this.subs.values()) if (!sub.confirmed) this.track(this.sendConfirmation(sub));
  }

  confirm(topicArn: string, token: string): Subscription | undefined {
    const sub = this.list(topicArn).find((s) => s.token === token);
    if (sub) sub.confirmed = true;
    return sub;
  }

  unsubscribe(arn: string): boolean {
    return this.subs.delete(arn);
  }

  /** Delivers a message to the confirmed subscriptions of its topic (in the background: `idle()` waits for it). */
  deliver(m: OutgoingMessage): void {
    for (const sub of this.list(m.topicArn)) {
      // A remote HTTP endpoint is never confirmed: each message it would get is printed as not delivered.
      if (sub.confirmed || !isLoopbackUrl(sub.endpoint)) this.track(this.deliverOne(m, sub));
    }
  }

  /** Resolves when every delivery started so far has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** The links SNS hands out, served unsigned under SNS_LINK_PREFIX. */
  handleLink(path: string, query: string): LocalServiceResponse {
    const params = new URLSearchParams(query);
    const name = path.slice(SNS_LINK_PREFIX.length);
    if (name.endsWith('.pem')) return { status: 200, headers: { 'content-type': 'application/x-pem-file' }, body: this.opts.signer.certificatePem };
    if (name === 'confirm') {
      const sub = this.confirm(params.get('TopicArn') ?? '', params.get('Token') ?? '');
      if (!sub) return xmlAnswer(404, '<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>No pending subscription with that token</Message></Error></ErrorResponse>');
      this.opts.log(`keygate local: SNS subscription confirmed: ${sub.protocol} ${sub.endpoint} (${sub.arn})`);
      return xmlAnswer(200, `<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>${xml(sub.arn)}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`);
    }
    if (name === 'unsubscribe' && this.unsubscribe(params.get('SubscriptionArn') ?? '')) {
      return xmlAnswer(200, '<UnsubscribeResponse><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></UnsubscribeResponse>');
    }
    return xmlAnswer(404, '<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Unknown SNS link</Message></Error></ErrorResponse>');
  }

  private track(p: Promise<void>): void {
    const done = p.catch((e) => this.opts.log(`keygate local: SNS delivery failed: ${(e as Error).message}`)).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private record(r: Omit<DeliveryRecord, 'at'>): void {
    this.kept.push({ at: this.opts.clock(), ...r });
    if (this.kept.length > MAX_KEPT_DELIVERIES) this.kept.shift();
  }

  private async sendConfirmation(sub: Subscription): Promise<void> {
    if (!isLoopbackUrl(sub.endpoint)) {
      this.opts.log(`keygate local: SNS ${sub.protocol} subscription ${sub.endpoint} NOT confirmed: keygate local delivers to loopback addresses only`);
      return;
    }
    const envelope = confirmationEnvelope(sub, this.opts);
    const status = await postEnvelope(sub.endpoint, 'SubscriptionConfirmation', JSON.stringify(envelope), {
      'x-amz-sns-message-id': envelope.MessageId, 'x-amz-sns-topic-arn': sub.topicArn,
    });
    this.opts.log(`keygate local: SNS sent a SubscriptionConfirmation to ${sub.endpoint} (HTTP ${status})`);
  }

  private async deliverOne(m: OutgoingMessage, sub: Subscription): Promise<void> {
    const base = { protocol: sub.protocol, endpoint: sub.endpoint, subscriptionArn: sub.arn, messageId: m.messageId, subject: m.subject };
    if (PRINTED.has(sub.protocol)) {
      const message = sub.protocol === 'email-json' ? JSON.stringify(notificationEnvelope(m, sub, this.opts)) : textFor(m, sub.protocol);
      this.opts.log(`keygate local: SNS ${sub.protocol} to ${sub.endpoint}: ${m.subject ? `"${m.subject}" ` : ''}${oneLine(message)}`);
      this.record({ ...base, message, delivered: true, detail: 'printed' });
      return;
    }
    if (sub.protocol === 'lambda' && this.opts.invokeLambda) {
      await this.opts.invokeLambda(sub.endpoint, lambdaEvent(m, sub, this.opts));
      this.record({ ...base, delivered: true, detail: 'invoked' });
      return;
    }
    if ((sub.protocol === 'http' || sub.protocol === 'https') && isLoopbackUrl(sub.endpoint)) {
      const envelope = notificationEnvelope(m, sub, this.opts);
      const status = await postEnvelope(sub.endpoint, 'Notification', sub.rawMessageDelivery ? textFor(m, sub.protocol) : JSON.stringify(envelope), {
        'x-amz-sns-message-id': m.messageId, 'x-amz-sns-topic-arn': m.topicArn, 'x-amz-sns-subscription-arn': sub.arn,
        ...(sub.rawMessageDelivery ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
      });
      this.record({ ...base, delivered: status >= 200 && status < 300, detail: `HTTP ${status}` });
      this.opts.log(`keygate local: SNS delivered ${m.messageId} to ${sub.endpoint} (HTTP ${status})`);
      return;
    }
    const why = sub.protocol.startsWith('http') ? 'not a loopback address' : `${sub.protocol} endpoints are not emulated`;
    this.opts.log(`keygate local: SNS message ${m.messageId} NOT delivered to ${sub.protocol} ${sub.endpoint}: ${why}`);
    this.record({ ...base, delivered: false, detail: why });
  }
}

/** A printed message on one line, its start only: a terminal line, not the mail (the dashboard keeps the whole message). */
export const PRINTED_MESSAGE_CHARS = 320;

function oneLine(s: string): string {
  const flat = s.replace(/\s*\n\s*/g, ' ');
  if (flat.length <= PRINTED_MESSAGE_CHARS) return flat;
  return `${flat.slice(0, PRINTED_MESSAGE_CHARS)}… (${flat.length - PRINTED_MESSAGE_CHARS} more characters: the whole message is on the dashboard)`;
}

function xmlAnswer(status: number, body: string): LocalServiceResponse {
  return { status, headers: { 'content-type': 'text/xml' }, body };
}
