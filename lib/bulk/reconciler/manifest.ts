/*
 * The declared client set as it travels to the reconciler (an S3 asset written at synth),
 * and its expansion into the keys that should exist. Pure: no AWS SDK, no aws-cdk-lib, so the
 * Lambda bundle stays small and tests need no mocks.
 */
import { CLIENT_SET_DESCRIPTION_PREFIX } from '../../shared-constants';

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
  /** Full description, starting with the set's marker. */
  readonly description: string;
  /** Usage plan ids, sorted. */
  readonly planIds: string[];
  readonly tags: { [key: string]: string };
}

/**
 * The marker at the start of the description of every key a client set owns. ImportApiKeys
 * can't set tags, so ownership lives in the description (the ops CLI's `isManagedKey` knows it).
 */
export function ownerMarker(setId: string): string {
  return `${CLIENT_SET_DESCRIPTION_PREFIX}=${setId}]`;
}

/** Whether a key's description says it belongs to the set `setId` (exact id, not a prefix of another). */
export function isOwnedBy(description: string | undefined, setId: string): boolean {
  const marker = ownerMarker(setId);
  if (!description?.startsWith(marker)) return false;
  return description.length === marker.length || description[marker.length] === ' ';
}

/** The description a key of the set carries: the marker, then the declared description. */
export function ownedDescription(setId: string, description: string | undefined): string {
  const marker = ownerMarker(setId);
  return description ? `${marker} ${description}` : marker;
}

/** Name of a client's key of one generation, as single clients name theirs. */
export function generationKeyName(client: string, generation: number): string {
  return generation === 1 ? client : `${client}-gen${generation}`;
}

/**
 * Expands the manifest into the keys that should exist. `tiers` maps tier keys to usage
 * plan ids. Throws when the manifest refers to a tier the resource does not pass, or when
 * two keys would get the same name (both are caught at synth; this guards hand-made input).
 */
export function desiredKeys(manifest: ClientSetManifest, setId: string, tiers: { [tierKey: string]: string }): DesiredKey[] {
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
      seen.add(name);
      out.push({
        name,
        client: client.name,
        generation,
        enabled: client.enabled ?? true,
        description: ownedDescription(setId, client.description),
        planIds,
        tags: client.tags ?? {},
      });
    }
  }
  return out;
}
