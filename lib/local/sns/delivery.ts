/**
 * Delivery of the local SNS's messages to a topic's subscriptions, as SNS does it:
 * - `http`/`https` on a loopback address: a POST of the JSON envelope (signed, SignatureVersion
 *   1) with the `x-amz-sns-*` headers; a new subscription first gets a SubscriptionConfirmation
 *   whose SubscribeURL confirms it when fetched, and gets nothing else until then. Any other
 *   address is refused: the local gateway never sends a message off this machine.
 * - `email`, `email-json`, `sms`: one line on the terminal (protocol, endpoint, subject,
 *   message), kept for the dashboard; nothing is sent.
 * - `lambda`: the function of the app is invoked with SNS's event.
 * `sqs`, `firehose` and `application` endpoints are not emulated (printed as not delivered).
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { SnsSigner } from './signing';

export interface Subscription {
  readonly arn: string;
  readonly topicArn: string;
  readonly protocol: string;
  readonly endpoint: string;
  /** HTTP subscriptions wait for their SubscribeURL to be fetched. */
  confirmed: boolean;
  /** The confirmation token (HTTP). */
  readonly token: string;
  readonly rawMessageDelivery: boolean;
}

/** A message as the delivery needs it. */
export interface OutgoingMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Record<string, { readonly dataType: string; readonly value: string }>;
  readonly timestamp: string;
  /** A JSON message structure's texts by protocol (`email`, `sms`, `http`…); `message` is its `default`. */
  readonly byProtocol?: Record<string, string>;
}

/** The text a subscription of this protocol gets. */
export function textFor(m: OutgoingMessage, protocol: string): string {
  return m.byProtocol?.[protocol] ?? m.message;
}

/** What a delivery did, kept for the dashboard and tests. */
export interface DeliveryRecord {
  readonly at: number;
  readonly protocol: string;
  readonly endpoint: string;
  readonly subscriptionArn: string;
  readonly messageId: string;
  readonly subject?: string;
  /** For email and SMS: the message as it would be sent. */
  readonly message?: string;
  readonly delivered: boolean;
  /** Why not, or the HTTP status. */
  readonly detail?: string;
}

export interface DeliveryOptions {
  readonly clock: () => number;
  readonly log: (line: string) => void;
  readonly signer: SnsSigner;
  /** The gateway's base URL (for SigningCertURL, SubscribeURL, UnsubscribeURL). */
  readonly baseUrl: () => string;
  /** Invokes a Lambda function of the app (lambda subscriptions). */
  readonly invokeLambda?: (arn: string, event: object) => Promise<unknown>;
}

/** Where the gateway serves the SNS links (certificate, confirm, unsubscribe): unsigned GETs. */
export const SNS_LINK_PREFIX = '/_sns/';
const HTTP_TIMEOUT_MS = 15_000;

/** Whether a URL's host is this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function links(base: string, sub: Pick<Subscription, 'arn' | 'token' | 'topicArn'>): { cert: string; subscribe: string; unsubscribe: string } {
  const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();
  return {
    cert: `${base}${SNS_LINK_PREFIX}SimpleNotificationService-local.pem`,
    subscribe: `${base}${SNS_LINK_PREFIX}confirm?${q({ Action: 'ConfirmSubscription', TopicArn: sub.topicArn, Token: sub.token })}`,
    unsubscribe: `${base}${SNS_LINK_PREFIX}unsubscribe?${q({ Action: 'Unsubscribe', SubscriptionArn: sub.arn })}`,
  };
}

/** The signed JSON envelope of a notification to one subscription. */
export function notificationEnvelope(m: OutgoingMessage, sub: Subscription, opts: DeliveryOptions): Record<string, unknown> {
  const link = links(opts.baseUrl(), sub);
  const fields: Record<string, string | undefined> = {
    Type: 'Notification', MessageId: m.messageId, TopicArn: m.topicArn, Subject: m.subject, Message: textFor(m, sub.protocol), Timestamp: m.timestamp,
  };
  const envelope: Record<string, unknown> = {
    ...fields, SignatureVersion: '1', Signature: opts.signer.signEnvelope(fields), SigningCertURL: link.cert, UnsubscribeURL: link.unsubscribe,
  };
  if (envelope.Subject === undefined) delete envelope.Subject;
  const attrs = Object.entries(m.attributes);
  if (attrs.length > 0) envelope.MessageAttributes = Object.fromEntries(attrs.map(([k, a]) => [k, { Type: a.dataType, Value: a.value }]));
  return envelope;
}

/** The SubscriptionConfirmation a new HTTP subscription gets. */
export function confirmationEnvelope(sub: Subscription, opts: DeliveryOptions): Record<string, string> {
  const link = links(opts.baseUrl(), sub);
  const fields: Record<string, string> = {
    Type: 'SubscriptionConfirmation', MessageId: randomUUID(), Token: sub.token, TopicArn: sub.topicArn,
    Message: `You have chosen to subscribe to the topic ${sub.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: link.subscribe, Timestamp: new Date(opts.clock()).toISOString(),
  };
  return { ...fields, SignatureVersion: '1', Signature: opts.signer.signEnvelope(fields), SigningCertURL: link.cert };
}

/** POSTs an envelope to a loopback endpoint; resolves with the status (or throws). */
export function postEnvelope(endpoint: string, type: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(endpoint);
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, {
      method: 'POST', timeout: HTTP_TIMEOUT_MS,
      headers: {
        'content-type': 'text/plain; charset=UTF-8', 'user-agent': 'Amazon Simple Notification Service Agent',
        'x-amz-sns-message-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers,
      },
      // A local HTTPS subscriber has a self-made certificate.
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${HTTP_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** SNS's event for a Lambda subscription. */
export function lambdaEvent(m: OutgoingMessage, sub: Subscription, opts: DeliveryOptions): object {
  const envelope = notificationEnvelope(m, sub, opts);
  return {
    Records: [{
      EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: sub.arn,
      Sns: {
        Type: 'Notification', MessageId: m.messageId, TopicArn: m.topicArn, Subject: m.subject ?? null, Message: textFor(m, 'lambda'), Timestamp: m.timestamp,
        SignatureVersion: '1', Signature: envelope.Signature, SigningCertUrl: envelope.SigningCertURL, UnsubscribeUrl: envelope.UnsubscribeURL,
        MessageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, a]) => [k, { Type: a.dataType, Value: a.value }])),
      },
    }],
  };
}
