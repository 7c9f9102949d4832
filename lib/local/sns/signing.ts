/**
 * The local SNS's signing key: an RSA key made at start and a self-signed X.509 certificate for
 * it (served at the messages' SigningCertURL), so a subscriber verifies an envelope as it does on
 * AWS: SignatureVersion 1 is SHA1withRSA over the envelope's fields in SNS's canonical order.
 * Node can read certificates but not make them: the certificate is DER written out here.
 */
import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from 'crypto';

/** The fields SNS signs, in its order, by message type. */
const SIGNED_FIELDS: Record<string, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** The string SNS signs: `Name\nvalue\n` for each signed field present, in order. */
export function stringToSign(envelope: Record<string, string | undefined>): string {
  const fields = SIGNED_FIELDS[envelope.Type ?? ''] ?? SIGNED_FIELDS.Notification;
  return fields.filter((f) => envelope[f] !== undefined).map((f) => `${f}\n${envelope[f]}\n`).join('');
}

export class SnsSigner {
  /** The certificate, PEM. */
  readonly certificatePem: string;
  private readonly privateKey: KeyObject;

  constructor(now: number = Date.now()) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const der = selfSignedCertificate(privateKey, publicKey.export({ type: 'spki', format: 'der' }), now);
    this.certificatePem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  }

  /** SignatureVersion 1 (SHA1withRSA), base64. */
  signEnvelope(envelope: Record<string, string | undefined>): string {
    return sign('sha1', Buffer.from(stringToSign(envelope), 'utf8'), this.privateKey).toString('base64');
  }

  /** A short fingerprint of the certificate, for output. */
  get fingerprint(): string {
    return createHash('sha256').update(this.certificatePem).digest('hex').slice(0, 16);
  }
}

// --- DER, just what a certificate needs ---

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const nul = Buffer.from([0x05, 0x00]);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A positive INTEGER from big-endian bytes. */
function positiveInt(bytes: Buffer): Buffer {
  return tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** UTCTime (years before 2050) or GeneralizedTime. */
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  const year = new Date(ms).getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

function selfSignedCertificate(privateKey: KeyObject, spki: Buffer, now: number): Buffer {
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nul);
  const name = seq(set(seq(oid('2.5.4.3'), utf8('sns.keygate-local.invalid'))), set(seq(oid('2.5.4.10'), utf8('keygate local'))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // version v3
    positiveInt(serial),
    sha256WithRsa,
    name,
    seq(time(now - 86_400_000), time(now + 365 * 86_400_000)),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, privateKey);
  return seq(tbs, sha256WithRsa, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}
