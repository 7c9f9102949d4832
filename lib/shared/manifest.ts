/*
 * The declared client set as it travels to the reconciler (an S3 asset written at synth),
 * and its expansion into the keys that should exist. Pure: no AWS SDK, no aws-cdk-lib, so the
 * Lambda bundle stays small and tests need no mocks.
 */
import { createHash } from 'crypto';
import { CLIENT_SET_DESCRIPTION_PREFIX, MAX_API_KEY_NAME_LENGTH } from './constants';

/** Rows per ImportApiKeys call, unless the set says otherwise. */
export const DEFAULT_IMPORT_BATCH_SIZE = 500;

/** Format version of the manifest file. */
export const MANIFEST_VERSION = 1;

/** One client as the manifest holds it. Defaults are left out to keep the file small. */
export interface ManifestClient {
  /** Client name; the generation-1 key is named after it. */
  readonly name: string;
  /** Tier keys (`t0`, `t1`, …), resolved to usage plan ids through the resource's `Tiers` property. */
  readonly tiers: string[];
  /** Absent means enabled. */
  readonly enabled?: boolean;
  readonly description?: string;
  readonly tags?: { [key: string]: string };
  /** Absent means `[1]`. */
  readonly generations?: number[];
}

/** The manifest: never key values, only what the keys should look like. */
export interface ClientSetManifest {
  readonly version: number;
  readonly clients: ManifestClient[];
}

/** A key that should exist, with its plans resolved to ids. */
export interface DesiredKey {
  /** Key name: `<client>` for generation 1, `<client>-gen<N>` after. */
  readonly name: string;
  readonly client: string;
  readonly generation: number;
  readonly enabled: boolean;
  /** The declared description (the set's marker goes before it). */
  readonly description?: string;
  /** Usage plan ids, sorted. */
  readonly planIds: string[];
  readonly tags: { [key: string]: string };
}

/**
 * What the marker at the start of a key's description says. ImportApiKeys can't set tags, so
 * a set's ownership lives in the description (the ops CLI's `managedKeyReason` reads it):
 * `[keygate:client-set=<setId> owner=<resource> from=<resource> retired=<request>]`, where
 * resources and requests are 8-character ids (the marker shares the description's length limit).
 */
export interface KeyMarker {
  readonly setId: string;
  /**
   * The custom resource that owns the key (`ownerOf(stackId, logicalId)`). Absent on keys
   * written before ownership was recorded: any resource of the set may claim those.
   */
  readonly owner?: string;
  /**
   * The resource the owner adopted the key from. Kept until that resource's Delete (which
   * CloudFormation sends only once the update succeeded) confirms the hand-over; a rollback
   * Delete of the adopter hands the key back instead of deleting it.
   */
  readonly from?: string;
  /** The request that retired the key (removed from the set): disabled, deleted by a later request. */
  readonly retired?: string;
}

const MARKER_PATTERN = /^\[keygate:client-set=([^\]\s]+)((?: [a-z]+=[^\]\s]+)*)\](?: (.*))?$/s;

/** Length of the owner and request ids in a marker: short, since the marker shares the key description's length limit. */
export const MARKER_ID_LENGTH = 8;

/**
 * The owner id of a custom resource: a short hash of its stack id (unique per stack) and logical
 * id. Short, because API Gateway limits a key's description, and the marker lives there.
 */
export function ownerOf(stackId: string, logicalId: string): string {
  return createHash('sha256').update(`${stackId}|${logicalId}`).digest('hex').slice(0, MARKER_ID_LENGTH);
}

/** The longest marker a key of `setId` can carry (owner, adoption and retirement all set). */
export function longestMarker(setId: string): number {
  const id = 'x'.repeat(MARKER_ID_LENGTH);
  return formatMarker({ setId, owner: id, from: id, retired: id }).length;
}

/** The marker, as the description starts with it. */
export function formatMarker(marker: KeyMarker): string {
  const fields = [`${CLIENT_SET_DESCRIPTION_PREFIX.slice(1)}=${marker.setId}`];
  if (marker.owner) fields.push(`owner=${marker.owner}`);
  if (marker.from) fields.push(`from=${marker.from}`);
  if (marker.retired) fields.push(`retired=${marker.retired}`);
  return `[${fields.join(' ')}]`;
}

/** A key's full description: the marker, then the declared description. */
export function describeKey(marker: KeyMarker, text: string | undefined): string {
  return text ? `${formatMarker(marker)} ${text}` : formatMarker(marker);
}

/** The marker and the declared text of a key's description; no marker → undefined. */
export function parseDescription(description: string | undefined): { marker: KeyMarker; text?: string } | undefined {
  const match = MARKER_PATTERN.exec(description ?? '');
  if (!match) return undefined;
  const fields: { [name: string]: string } = {};
  for (const field of match[2].trim().split(' ').filter(Boolean)) {
    const eq = field.indexOf('=');
    fields[field.slice(0, eq)] = field.slice(eq + 1);
  }
  return { marker: { setId: match[1], owner: fields.owner, from: fields.from, retired: fields.retired }, text: match[3] || undefined };
}

/** Whether a key's description says it belongs to the set `setId` (exact id, not a prefix of another). */
export function isOfSet(description: string | undefined, setId: string): boolean {
  return parseDescription(description)?.marker.setId === setId;
}

/**
 * Characters a name or description can't hold: ImportApiKeys' CSV treats both quote
 * characters as quoting, so they don't round-trip; control characters end rows.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
export const UNSAFE_CSV_CHARACTERS = /["'\u0000-\u001f\u007f]/;

/** Name of a client's key of one generation, as single clients name theirs. */
export function generationKeyName(client: string, generation: number): string {
  return generation === 1 ? client : `${client}-gen${generation}`;
}

/**
 * Expands the manifest into the keys that should exist. `tiers` maps tier keys to usage
 * plan ids. Throws when the manifest refers to a tier the resource does not pass, or when
 * two keys would get the same name (both are caught at synth; this guards hand-made input).
 */
export function desiredKeys(manifest: ClientSetManifest, tiers: { [tierKey: string]: string }): DesiredKey[] {
  if (manifest.version !== MANIFEST_VERSION) {
    throw new Error(`client set manifest version ${manifest.version} is not supported (expected ${MANIFEST_VERSION})`);
  }
  const out: DesiredKey[] = [];
  const seen = new Set<string>();
  for (const client of manifest.clients) {
    const planIds = [...new Set(client.tiers.map((tier) => {
      const planId = tiers[tier];
      if (planId === undefined) throw new Error(`client ${client.name} refers to tier ${tier}, which the resource does not define`);
      return planId;
    }))].sort();
    for (const generation of client.generations ?? [1]) {
      const name = generationKeyName(client.name, generation);
      if (seen.has(name)) throw new Error(`two keys of the client set would be named ${name}`);
      if (name.length > MAX_API_KEY_NAME_LENGTH) throw new Error(`the key name ${name.slice(0, 40)}… is ${name.length} characters; API Gateway allows ${MAX_API_KEY_NAME_LENGTH}`);
      if (UNSAFE_CSV_CHARACTERS.test(name) || UNSAFE_CSV_CHARACTERS.test(client.description ?? '')) {
        throw new Error(`client ${JSON.stringify(client.name)}: names and descriptions can't hold quote or control characters (ImportApiKeys' CSV does not round-trip them)`);
      }
      seen.add(name);
      out.push({
        name,
        client: client.name,
        generation,
        enabled: client.enabled ?? true,
        description: client.description,
        planIds,
        tags: client.tags ?? {},
      });
    }
  }
  return out;
}
