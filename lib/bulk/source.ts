import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import type { ITier } from '../tier';

/** One client of a bulk set as read from code or a file, before validation. @internal */
export interface RawClientEntry {
  /** Where it was declared, for messages: `clients.csv line 12`, `clients[3]`. */
  readonly where: string;
  readonly name: string;
  readonly tiers: ITier[];
  readonly tierNames: string[];
  readonly enabled: boolean;
  readonly description?: string;
  readonly tags?: { [key: string]: string };
  readonly generations?: number[];
}

/** A problem found while reading a source. @internal */
export interface SourceProblem {
  readonly where: string;
  readonly property: string;
  readonly problem: string;
  readonly value?: unknown;
}

/** @internal */
export interface SourceEntries {
  readonly entries: RawClientEntry[];
  readonly problems: SourceProblem[];
}

/** Columns of a client set CSV file (case-insensitive, any order). */
const CLIENT_SET_CSV_COLUMNS = ['name', 'tiers', 'enabled', 'description', 'tags', 'generations'];
/** Columns that would hold key values: a client set never declares values. */
const VALUE_COLUMNS = ['key', 'value', 'apikey', 'api key', 'keyvalue', 'key value'];

/**
 * Where the clients of a bulk client set come from besides code: a CSV or JSON file, read and
 * validated at synth time (errors name the file and line). A file lists names, tiers, enabled
 * flags, descriptions, tags and key generations — never key values.
 */
export abstract class ClientSetSource {
  /** Columns of a client set CSV file (case-insensitive, any order). */
  public static readonly CSV_COLUMNS: string[] = [...CLIENT_SET_CSV_COLUMNS];

  /**
   * A CSV file with a header line. Columns (case-insensitive, any order): `Name` (required),
   * `Tiers` (tier names; several as a quoted comma- or semicolon-separated list), `Enabled`
   * (TRUE/FALSE, default TRUE), `Description`, `Tags` (`key=value;key=value`) and
   * `Generations` (e.g. `"1,2"`, default 1).
   */
  public static fromCsvFile(filePath: string): ClientSetSource {
    return new FileSource(filePath, parseClientCsv);
  }

  /**
   * A JSON file: an array of clients, or `{ "clients": [...] }`, each
   * `{ "name", "tiers": [names], "enabled", "description", "tags": {}, "generations": [] }`.
   */
  public static fromJsonFile(filePath: string): ClientSetSource {
    return new FileSource(filePath, parseClientJson);
  }

  /** @internal */
  public abstract _read(): SourceEntries;
}

/** A file read at synth time with one of the parsers below. */
class FileSource extends ClientSetSource {
  constructor(private readonly filePath: string, private readonly parseText: (text: string, file: string) => SourceEntries) {
    super();
  }

  public _read(): SourceEntries {
    const file = path.basename(this.filePath);
    const text = readText(this.filePath);
    if (typeof text !== 'string') return { entries: [], problems: [{ where: file, property: 'file', problem: text.error, value: this.filePath }] };
    return this.parseText(text, file);
  }
}

function readText(filePath: string): string | { error: string } {
  try {
    return fs.readFileSync(filePath, 'utf-8');
  } catch (err) {
    return { error: `can't be read: ${(err as Error).message}` };
  }
}

/** Parses a client set CSV. Exported for tests. @internal */
export function parseClientCsv(text: string, file: string): SourceEntries {
  const problems: SourceProblem[] = [];
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    return { entries: [], problems: [{ where: `${file} line ${e.lines ?? 1}`, property: 'file', problem: `not valid CSV: ${e.message ?? String(err)}` }] };
  }
  if (records.length === 0) return { entries: [], problems: [{ where: `${file} line 1`, property: 'header', problem: 'the file is empty; expected a header line with Name and Tiers' }] };
  const header = records[0].record.map((h) => h.trim().toLowerCase());
  const headerWhere = `${file} line ${records[0].info.lines}`;
  const valueColumns = header.filter((h) => VALUE_COLUMNS.includes(h));
  if (valueColumns.length > 0) {
    problems.push({ where: headerWhere, property: 'header', problem: 'a client set never declares key values (they are generated at deploy time and read with `keygate keys show`); remove the column', value: valueColumns.join(',') });
  }
  const unknown = header.filter((h) => !CLIENT_SET_CSV_COLUMNS.includes(h) && !VALUE_COLUMNS.includes(h));
  if (unknown.length > 0) {
    problems.push({ where: headerWhere, property: 'header', problem: `unknown column; the columns are ${CLIENT_SET_CSV_COLUMNS.join(', ')}`, value: unknown.join(',') });
  }
  if (!header.includes('name')) problems.push({ where: headerWhere, property: 'header', problem: 'the Name column is required', value: records[0].record.join(',') });
  if (problems.length > 0) return { entries: [], problems };

  const col = (name: string) => header.indexOf(name);
  const cell = (record: string[], name: string): string => (col(name) >= 0 ? (record[col(name)] ?? '') : '');
  const entries: RawClientEntry[] = [];
  for (const { record, info } of records.slice(1)) {
    const where = `${file} line ${info.lines}`;
    if (record.length > header.length) {
      problems.push({ where, property: 'row', problem: `has ${record.length} cells for ${header.length} columns; quote a list that holds commas ("a,b")` });
      continue;
    }
    const enabledCell = cell(record, 'enabled');
    let enabled = true;
    if (/^false$/i.test(enabledCell)) enabled = false;
    else if (enabledCell !== '' && !/^true$/i.test(enabledCell)) problems.push({ where, property: 'enabled', problem: 'must be TRUE or FALSE', value: enabledCell });
    const generationsCell = cell(record, 'generations');
    let generations: number[] | undefined;
    if (generationsCell !== '') {
      generations = splitList(generationsCell).map(Number);
    }
    const tagsCell = cell(record, 'tags');
    let tags: { [key: string]: string } | undefined;
    if (tagsCell !== '') {
      tags = {};
      for (const pair of tagsCell.split(';').map((p) => p.trim()).filter(Boolean)) {
        const eq = pair.indexOf('=');
        if (eq <= 0) {
          problems.push({ where, property: 'tags', problem: 'tags are key=value pairs separated by ;', value: pair });
          continue;
        }
        tags[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
      }
    }
    const description = cell(record, 'description');
    entries.push({
      where,
      name: cell(record, 'name'),
      tiers: [],
      tierNames: splitList(cell(record, 'tiers')),
      enabled,
      description: description === '' ? undefined : description,
      tags,
      generations,
    });
  }
  return { entries, problems };
}

/** Parses a client set JSON file. Exported for tests. @internal */
export function parseClientJson(text: string, file: string): SourceEntries {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { entries: [], problems: [{ where: file, property: 'file', problem: `not valid JSON: ${(err as Error).message}` }] };
  }
  const list = Array.isArray(doc) ? doc : (doc as { clients?: unknown } | null)?.clients;
  if (!Array.isArray(list)) {
    return { entries: [], problems: [{ where: file, property: 'file', problem: 'expected an array of clients or { "clients": [...] }' }] };
  }
  const problems: SourceProblem[] = [];
  const entries: RawClientEntry[] = [];
  const lines = lineLocator(text);
  list.forEach((item: unknown, index) => {
    const obj = (item ?? {}) as { [key: string]: unknown };
    const name = typeof obj.name === 'string' ? obj.name : '';
    const where = `${file} line ${lines(name)} (clients[${index}])`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push({ where, property: 'client', problem: 'must be an object' });
      return;
    }
    const known = ['name', 'tiers', 'enabled', 'description', 'tags', 'generations'];
    for (const key of Object.keys(obj)) {
      if (['key', 'value', 'apiKey', 'keyValue'].includes(key)) {
        problems.push({ where, property: key, problem: 'a client set never declares key values (they are generated at deploy time and read with `keygate keys show`)' });
      } else if (!known.includes(key)) {
        problems.push({ where, property: key, problem: `unknown field; the fields are ${known.join(', ')}` });
      }
    }
    if (typeof obj.name !== 'string') problems.push({ where, property: 'name', problem: 'must be a string', value: describeJson(obj.name) });
    const tierNames = typeof obj.tiers === 'string' ? [obj.tiers] : obj.tiers;
    if (tierNames !== undefined && !(Array.isArray(tierNames) && tierNames.every((t) => typeof t === 'string'))) {
      problems.push({ where, property: 'tiers', problem: 'must be a list of tier names', value: describeJson(obj.tiers) });
    }
    if (obj.enabled !== undefined && typeof obj.enabled !== 'boolean') problems.push({ where, property: 'enabled', problem: 'must be true or false', value: describeJson(obj.enabled) });
    if (obj.description !== undefined && typeof obj.description !== 'string') problems.push({ where, property: 'description', problem: 'must be a string', value: describeJson(obj.description) });
    const tags = obj.tags;
    if (tags !== undefined && (typeof tags !== 'object' || tags === null || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string'))) {
      problems.push({ where, property: 'tags', problem: 'must be an object of strings', value: describeJson(tags) });
    }
    const generations = obj.generations;
    if (generations !== undefined && !(Array.isArray(generations) && generations.every((g) => typeof g === 'number'))) {
      problems.push({ where, property: 'generations', problem: 'must be a list of numbers', value: describeJson(generations) });
    }
    entries.push({
      where,
      name,
      tiers: [],
      tierNames: Array.isArray(tierNames) ? tierNames.filter((t): t is string => typeof t === 'string') : [],
      enabled: obj.enabled !== false,
      description: typeof obj.description === 'string' ? obj.description : undefined,
      tags: typeof tags === 'object' && tags !== null && !Array.isArray(tags) ? tags as { [key: string]: string } : undefined,
      generations: Array.isArray(generations) ? generations.filter((g): g is number => typeof g === 'number') : undefined,
    });
  });
  return { entries, problems };
}

/** Splits `a,b`, `a;b` into trimmed, non-empty parts. */
function splitList(cell: string): string[] {
  return cell.split(/[,;]/).map((s) => s.trim()).filter((s) => s.length > 0);
}

function describeJson(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * Line numbers of entries in a JSON text, found in order: each call looks for the entry's
 * `"name": "<name>"` after the previous one. Unknown → the previous line.
 */
function lineLocator(text: string): (name: string) => number {
  let offset = 0;
  let line = 1;
  return (name: string) => {
    const pattern = new RegExp(`"name"\\s*:\\s*${escapeRegExp(JSON.stringify(name))}`, 'g');
    pattern.lastIndex = offset;
    const match = pattern.exec(text);
    if (!match) return line;
    for (let i = offset; i < match.index; i++) if (text.charCodeAt(i) === 10) line++;
    offset = match.index;
    return line;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
