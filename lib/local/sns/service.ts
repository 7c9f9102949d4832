/**
 * The slice of Amazon SNS that keygate's lifecycle jobs need, served beside the API Gateway
 * control plane for the real `@aws-sdk/client-sns` (AWS query protocol: `POST /` with a
 * form-encoded `Action=…&Version=2010-03-31` body, XML answers). The app's topics
 * (AWS::SNS::Topic) are there from the start with their subscriptions; Publish validates like
 * SNS, keeps the messages in memory (the newest MAX_KEPT_MESSAGES) and delivers them to the
 * topic's subscriptions (subscriptions.ts). Subscribe, ConfirmSubscription, Unsubscribe and
 * ListSubscriptionsByTopic manage subscriptions.
 */
import { randomUUID } from 'crypto';
import { LocalServiceError, LocalServiceResponse, queryXmlError, xmlText as xml } from '../service-error';
import { LocalService, signedFor } from '../services';
import { DeliveryOptions } from './delivery';
import { PROTOCOLS, SnsSubscriptions, SubscriptionSeed } from './subscriptions';

/** A topic of the cloud assembly, as the model builder found it. */
export interface TopicSeed {
  readonly arn: string;
  readonly name: string;
  readonly fifo: boolean;
}

/** One message a topic received. */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Record<string, { readonly dataType: string; readonly value: string }>;
  /** When it was published, on the gateway's clock (ms since the epoch). */
  readonly publishedAt: number;
}

export interface SnsRequest {
  readonly body: Buffer;
}

export type SnsResponse = LocalServiceResponse;

export interface LocalSnsOptions {
  readonly clock: () => number;
  /** Told about each message (a summary line) and each delivery (email and SMS: the message). */
  readonly log?: (line: string) => void;
  /** How messages are delivered (signing key, the gateway's URL, Lambda); without it, nothing is delivered. */
  readonly delivery?: Omit<DeliveryOptions, 'clock' | 'log'>;
  /** The template's subscriptions. */
  readonly subscriptions?: SubscriptionSeed[];
}

/** How many published messages the slice keeps (the oldest go first). */
export const MAX_KEPT_MESSAGES = 1000;
/** SNS's limit on a message with its attributes (256 KiB). */
export const MAX_MESSAGE_BYTES = 262_144;
/** SNS's limit on message attributes per message. */
const MAX_ATTRIBUTES = 10;
const API_VERSION = '2010-03-31';
const XMLNS = `http://sns.amazonaws.com/doc/${API_VERSION}/`;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

const invalidParameter = (what: string): LocalServiceError => new LocalServiceError('InvalidParameter', `Invalid parameter: ${what}`);

export class LocalSns {
  /** The slice as the gateway's registry sees it: a form POST signed for the `sns` service. */
  asService(): LocalService {
    return {
      name: 'sns',
      accepts: ({ method, headers }) => method === 'POST' && String(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
        && signedFor(headers, 'sns'),
      handle: (req) => this.handle({ body: req.body }),
    };
  }

  private readonly topics = new Map<string, TopicSeed>();
  private readonly kept: PublishedMessage[] = [];
  private total = 0;

  /** The topics' subscriptions and what was delivered to them. */
  readonly subscriptions?: SnsSubscriptions;

  constructor(topics: TopicSeed[], private readonly opts: LocalSnsOptions) {
    for (const t of topics) this.topics.set(t.arn, t);
    if (opts.delivery) {
      const subs = new SnsSubscriptions({ ...opts.delivery, clock: opts.clock, log: opts.log ?? (() => undefined) });
      for (const seed of opts.subscriptions ?? []) if (this.topics.has(seed.topicArn)) subs.add(seed, false);
      this.subscriptions = subs;
    }
  }

  /** Publishes as an AWS service does (CloudWatch alarm actions): no API validation beyond the topic; `byProtocol` as a JSON message structure. */
  publishFromService(topicArn: string, subject: string | undefined, message: string, byProtocol?: Record<string, string>): string | undefined {
    const topic = this.topics.get(topicArn);
    if (!topic) return undefined;
    return this.keep(topic, topicArn, subject, message, {}, byProtocol && { ...byProtocol, default: message });
  }

  /** The messages kept, oldest first. */
  get messages(): readonly PublishedMessage[] {
    return this.kept;
  }

  /** Messages published since the start, including those no longer kept. */
  get publishedCount(): number {
    return this.total;
  }

  handle(req: SnsRequest): SnsResponse {
    const requestId = randomUUID();
    try {
      const params = new URLSearchParams(req.body.toString('utf8'));
      const action = params.get('Action') ?? '';
      if (params.get('Version') !== API_VERSION) throw invalidParameter(`Version (keygate local serves ${API_VERSION})`);
      switch (action) {
        case 'Publish': return ok(action, `<MessageId>${this.publish(params)}</MessageId>`, requestId);
        case 'Subscribe': return ok(action, `<SubscriptionArn>${xml(this.subscribe(params))}</SubscriptionArn>`, requestId);
        case 'ConfirmSubscription': return ok(action, `<SubscriptionArn>${xml(this.confirmSubscription(params))}</SubscriptionArn>`, requestId);
        case 'Unsubscribe': this.subscriptionsOrFail().unsubscribe(params.get('SubscriptionArn') ?? ''); return ok(action, '', requestId);
        case 'ListSubscriptionsByTopic': return ok(action, this.listSubscriptions(params), requestId);
        case 'ListTopics': return ok(action, `<Topics>${[...this.topics.keys()].map((arn) => `<member><TopicArn>${xml(arn)}</TopicArn></member>`).join('')}</Topics>`, requestId);
        default: throw new LocalServiceError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service (keygate local serves Publish, ListTopics, Subscribe, ConfirmSubscription, Unsubscribe and ListSubscriptionsByTopic).`);
      }
    } catch (e) {
      if (e instanceof LocalServiceError) return queryXmlError(e, XMLNS, requestId);
      throw e;
    }
  }

  private publish(params: URLSearchParams): string {
    const topicArn = params.get('TopicArn') ?? params.get('TargetArn') ?? undefined;
    if (topicArn === undefined) {
      if (params.has('PhoneNumber')) throw invalidParameter('PhoneNumber Reason: keygate local has no SMS');
      throw invalidParameter('TopicArn or TargetArn Reason: no value for required parameter');
    }
    if (!TOPIC_ARN.test(topicArn)) throw invalidParameter('TopicArn');
    const message = params.get('Message') ?? '';
    if (message === '') throw invalidParameter('Empty message');
    const subject = params.get('Subject') ?? undefined;
    if (subject !== undefined && (subject === '' || subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject))) {
      throw invalidParameter('Subject');
    }
    let byProtocol: Record<string, string> | undefined;
    if (params.get('MessageStructure') === 'json') {
      let structured: unknown;
      try {
        structured = JSON.parse(message);
      } catch {
        throw invalidParameter('Message Structure - JSON message body failed to parse');
      }
      if (typeof structured !== 'object' || structured === null || typeof (structured as Record<string, unknown>).default !== 'string') {
        throw invalidParameter('Message Structure - No default entry in JSON message body');
      }
      byProtocol = Object.fromEntries(Object.entries(structured).filter((e): e is [string, string] => typeof e[1] === 'string'));
    }
    const attributes = messageAttributes(params);
    const size = Buffer.byteLength(message) + Object.entries(attributes).reduce((n, [k, a]) => n + Buffer.byteLength(k) + Buffer.byteLength(a.dataType) + Buffer.byteLength(a.value), 0);
    if (size > MAX_MESSAGE_BYTES) throw invalidParameter('Message too long');
    const topic = this.topics.get(topicArn);
    if (!topic) throw new LocalServiceError('NotFound', 'Topic does not exist', 404);
    if (topic.fifo && !params.get('MessageGroupId')) throw invalidParameter('The MessageGroupId parameter is required for FIFO topics');
    return this.keep(topic, topicArn, subject, message, attributes, byProtocol);
  }

  /** Keeps, logs and delivers a message; `byProtocol` is a JSON message structure (each protocol its text, `default` for the rest). */
  private keep(topic: TopicSeed, topicArn: string, subject: string | undefined, message: string, attributes: PublishedMessage['attributes'], byProtocol?: Record<string, string>): string {
    const messageId = randomUUID();
    const publishedAt = this.opts.clock();
    this.kept.push({ messageId, topicArn, subject, message, attributes, publishedAt });
    if (this.kept.length > MAX_KEPT_MESSAGES) this.kept.shift();
    this.total++;
    // The subject and size only: a message body may carry anything.
    this.opts.log?.(`keygate local: SNS ${topic.name} got message ${messageId}${subject ? ` "${subject}"` : ''} (${Buffer.byteLength(message)} bytes)`);
    this.subscriptions?.deliver({ messageId, topicArn, subject, message: byProtocol?.default ?? message, byProtocol, attributes, timestamp: new Date(publishedAt).toISOString() });
    return messageId;
  }

  private subscriptionsOrFail(): SnsSubscriptions {
    if (!this.subscriptions) throw new LocalServiceError('InvalidAction', 'this local SNS delivers nothing');
    return this.subscriptions;
  }

  private topicOf(params: URLSearchParams): string {
    const topicArn = params.get('TopicArn') ?? '';
    if (!TOPIC_ARN.test(topicArn)) throw invalidParameter('TopicArn');
    if (!this.topics.has(topicArn)) throw new LocalServiceError('NotFound', 'Topic does not exist', 404);
    return topicArn;
  }

  /** Subscribe: an HTTP endpoint gets a SubscriptionConfirmation; answers `pending confirmation` unless ReturnSubscriptionArn. */
  private subscribe(params: URLSearchParams): string {
    const topicArn = this.topicOf(params);
    const protocol = (params.get('Protocol') ?? '').toLowerCase();
    if (!PROTOCOLS.has(protocol)) throw invalidParameter(`Invalid protocol type: ${protocol}`);
    const endpoint = params.get('Endpoint') ?? '';
    if (endpoint === '') throw invalidParameter('Endpoint');
    if ((protocol === 'http' || protocol === 'https') && !endpoint.startsWith(`${protocol}://`)) throw invalidParameter(`Endpoint must match the specified protocol`);
    const raw = attributeEntries(params).RawMessageDelivery === 'true';
    const sub = this.subscriptionsOrFail().add({ topicArn, protocol, endpoint, rawMessageDelivery: raw }, true);
    return sub.confirmed || params.get('ReturnSubscriptionArn') === 'true' ? sub.arn : 'pending confirmation';
  }

  private confirmSubscription(params: URLSearchParams): string {
    const sub = this.subscriptionsOrFail().confirm(this.topicOf(params), params.get('Token') ?? '');
    if (!sub) throw invalidParameter('Invalid token');
    return sub.arn;
  }

  private listSubscriptions(params: URLSearchParams): string {
    const members = this.subscriptionsOrFail().list(this.topicOf(params)).map((s) => `<member><TopicArn>${xml(s.topicArn)}</TopicArn><Protocol>${xml(s.protocol)}</Protocol>`
      + `<SubscriptionArn>${s.confirmed ? xml(s.arn) : 'PendingConfirmation'}</SubscriptionArn><Owner>${xml(s.topicArn.split(':')[4])}</Owner><Endpoint>${xml(s.endpoint)}</Endpoint></member>`);
    return `<Subscriptions>${members.join('')}</Subscriptions>`;
  }
}

/** `MessageAttributes.entry.N.Name`, `.Value.DataType`, `.Value.StringValue` / `.Value.BinaryValue` → a map, validated like SNS. */
function messageAttributes(params: URLSearchParams): PublishedMessage['attributes'] {
  const out: Record<string, { dataType: string; value: string }> = {};
  for (let n = 1; params.has(`MessageAttributes.entry.${n}.Name`); n++) {
    const prefix = `MessageAttributes.entry.${n}`;
    const name = params.get(`${prefix}.Name`) ?? '';
    const dataType = params.get(`${prefix}.Value.DataType`) ?? '';
    const value = params.get(`${prefix}.Value.StringValue`) ?? params.get(`${prefix}.Value.BinaryValue`) ?? '';
    if (!/^(String|Number|Binary)(\.[A-Za-z0-9._-]+)?$/.test(dataType)) {
      throw new LocalServiceError('ParameterValueInvalid', `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    if (value === '') throw new LocalServiceError('ParameterValueInvalid', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType.split('.')[0]}'.`);
    if (dataType.startsWith('Number') && !Number.isFinite(Number(value))) {
      throw new LocalServiceError('ParameterValueInvalid', `Could not cast message attribute '${name}' value to number.`);
    }
    out[name] = { dataType, value };
  }
  if (Object.keys(out).length > MAX_ATTRIBUTES) throw new LocalServiceError('ParameterValueInvalid', `Number of message attributes [${Object.keys(out).length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  return out;
}

/** `Attributes.entry.N.key` / `.value` → a map (Subscribe's attributes). */
function attributeEntries(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n = 1; params.has(`Attributes.entry.${n}.key`); n++) out[params.get(`Attributes.entry.${n}.key`) ?? ''] = params.get(`Attributes.entry.${n}.value`) ?? '';
  return out;
}

function ok(action: string, result: string, requestId: string): SnsResponse {
  return {
    status: 200, headers: { 'content-type': 'text/xml' },
    body: `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}
