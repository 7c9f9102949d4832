/** A damaged state file: refused at start naming the file (and the field), or loaded; never a 500, never a limit switched off. */
import * as fs from 'fs';
import * as path from 'path';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { synthPetApp, tmpDir } from './fixtures';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

type Json = unknown;
const DAMAGE: Json[] = [null, 'garbage', -1, 1.5, 1e300, '', {}, [], true, '5', 'x'.repeat(5)];

/** Every path of a JSON value (arrays by index). */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) paths(c, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function damage(doc: Json, r: () => number): Json {
  const all = paths(doc).filter((p) => p.length > 0);
  const target = all[Math.floor(r() * all.length)];
  const copy = JSON.parse(JSON.stringify(doc)) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of target.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = target[target.length - 1];
  if (r() < 0.2 && !Array.isArray(parent)) delete parent[last];
  else parent[last] = DAMAGE[Math.floor(r() * DAMAGE.length)];
  return copy;
}

describe('state file fuzz', () => {
  const assemblyDir = synthPetApp();
  let now = Date.UTC(2026, 10, 27, 12);
  const clock = (): number => now;
  let good: string;

  beforeAll(async () => {
    // A real state file: keys, associations and quota counters.
    const file = path.join(tmpDir('state-fuzz-seed'), 'state.json');
    const gw = await startLocalGateway({ assemblyDir, port: 0, statePath: file, clock, log: () => undefined });
    const free = [...gw.model.keys.values()].find((k) => k.name === 'free-client')!;
    await fetch(`${gw.info.apis[0].stages[0].url}/pets`, { headers: { 'x-api-key': free.value } });
    await gw.close();
    good = fs.readFileSync(file, 'utf8');
  });

  /**
   * The free plan's quota (5 a day) still stops its key: never more than 5 successes in a day.
   * Only a state that itself holds the plan without a quota (as UpdateUsagePlan's `remove /quota`
   * leaves it) serves the plan without one: a damage that deleted that field reads the same.
   */
  async function quotaHolds(gw: LocalGateway, state: Json): Promise<void> {
    const freePlan = [...gw.model.plans.values()].find((p) => p.name === 'free')!;
    if (!freePlan.quota) {
      const saved = ((state as { plans?: { id: string; quota?: unknown }[] }).plans ?? []).find((p) => p?.id === freePlan.id);
      expect(saved).toBeDefined();
      expect(saved?.quota).toBeUndefined();
      return;
    }
    const keyId = [...(gw.model.planKeys.get(freePlan.id) ?? [])].find((id) => gw.model.keys.get(id)?.enabled);
    const url = `${gw.info.apis[0].stages[0].url}/pets`;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      now += 1000; // the plan's throttle (2 rps) refills between calls
      const value = keyId ? gw.model.keys.get(keyId)!.value : 'noKeyInThePlan0123456789';
      statuses.push((await fetch(url, { headers: { 'x-api-key': value } })).status);
    }
    expect(statuses).not.toContain(500);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(5);
    if (keyId) expect(statuses[statuses.length - 1]).toBe(429);
  }

  test('an empty file starts fresh', async () => {
    const file = path.join(tmpDir('state-empty'), 'state.json');
    fs.writeFileSync(file, '');
    const gw = await startLocalGateway({ assemblyDir, port: 0, statePath: file, clock, log: () => undefined });
    await gw.close();
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).version).toBe(1);
  });

  test('the reported failures of issue 9 are refused naming the file and the field', async () => {
    const doc = JSON.parse(good);
    const cases: [string, (d: Record<string, unknown>) => void, RegExp][] = [
      ['usage is garbage', (d) => { d.usage = 'garbage'; }, /\/usage must be object/],
      ['a negative counter', (d) => { const plan = Object.values(d.usage as Record<string, Record<string, Record<string, number>>>)[0]; const key = Object.values(plan)[0]; key[Object.keys(key)[0]] = -3; }, /\/usage\/.* must be >= 0/],
      ['a string counter', (d) => { const plan = Object.values(d.usage as Record<string, Record<string, Record<string, unknown>>>)[0]; const key = Object.values(plan)[0]; key[Object.keys(key)[0]] = '9'; }, /\/usage\/.* must be integer/],
      ['keys: [null]', (d) => { d.keys = [null]; }, /\/keys\/0 must be object/],
      ['a key without a value', (d) => { delete (d.keys as Record<string, unknown>[])[0].value; }, /\/keys\/0 must have required property 'value'/],
      ['a 5-character key value', (d) => { (d.keys as Record<string, unknown>[])[0].value = 'abcde'; }, /\/keys\/0\/value must match pattern/],
    ];
    for (const [what, mutate, message] of cases) {
      const file = path.join(tmpDir('state-bad'), 'state.json');
      const d = JSON.parse(JSON.stringify(doc));
      mutate(d);
      fs.writeFileSync(file, JSON.stringify(d));
      const started = startLocalGateway({ assemblyDir, port: 0, statePath: file, clock, log: () => undefined });
      await expect({ what, result: started.then(() => 'started', (e: Error) => e.message) }.result).resolves.toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*${message.source}`));
    }
  });

  test('random damage: refused with the file named, or served with every limit in force', async () => {
    const r = rng(9);
    const doc = JSON.parse(good);
    let refused = 0;
    let served = 0;
    for (let i = 0; i < 25; i++) {
      const file = path.join(tmpDir('state-fuzz'), 'state.json');
      const damaged = damage(doc, r);
      let text = JSON.stringify(damaged);
      if (r() < 0.15) text = text.slice(0, Math.floor(r() * text.length)); // torn write
      fs.writeFileSync(file, text);
      let gw: LocalGateway;
      try {
        gw = await startLocalGateway({ assemblyDir, port: 0, statePath: file, clock, log: () => undefined });
      } catch (e) {
        expect((e as Error).message).toContain(file);
        expect((e as Error).message).not.toMatch(/TypeError|Cannot read prop/);
        refused++;
        continue;
      }
      try {
        now += 86_400_000; // a fresh day for the quota
        await quotaHolds(gw, damaged);
        served++;
      } finally {
        await gw.close();
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(served).toBeGreaterThan(0);
  });
});
