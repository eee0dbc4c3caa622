import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Opportunity } from '../../../src/contract/index.js';
import { hasCode } from '../../../src/errors.js';
import { FEATURE_COUNT, writeFeatures } from '../../../src/features/index.js';
import { ModelBundle, ScoringEngine, type ScoreOutcome, abBucket } from '../../../src/inference/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { ModelManager, RegistrySource, listBundles, promote, resolveModelRef } from '../../../src/registry/index.js';
import { sampleEvents } from '../../helpers/ledger.js';

const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));
const silent = createLogger({ level: 'silent', pretty: false });

function tempModels(): string {
  const dir = mkdtempSync(join(tmpdir(), 'models-'));
  cpSync(MODELS, dir, { recursive: true });
  return dir;
}

const opportunities = (n: number, prefix: string): Opportunity[] =>
  sampleEvents(n, prefix).map((e) => e as unknown as Opportunity);

async function startManager(dir: string, refs: Parameters<typeof ModelManager.start>[1], observed: string[] = []): Promise<ModelManager> {
  const manager = await ModelManager.start(new RegistrySource({ modelDir: dir, log: silent }), refs, (routing) => new ScoringEngine(routing, { maxSize: 64, maxDelayMs: 1, queueMax: 100_000 }), silent, {
    onReload: (r) => observed.push(r),
  });
  onTestFinished(async () => {
    await manager.engine.close();
    await manager.close();
  });
  return manager;
}

/** What a bundle gives each opportunity, computed directly (no batcher). */
async function expectedScores(dir: string, ops: readonly Opportunity[]): Promise<Array<[number, number, number]>> {
  const bundle = await ModelBundle.load(dir);
  try {
    const rows = new Float32Array(ops.length * FEATURE_COUNT);
    ops.forEach((op, i) => writeFeatures(op, rows, i * FEATURE_COUNT));
    const p = await bundle.predict(rows, ops.length);
    return ops.map((_, i) => [p.profit[i] ?? Number.NaN, p.success[i] ?? Number.NaN, p.duration[i] ?? Number.NaN]);
  } finally {
    await bundle.close();
  }
}

describe('the model registry', () => {
  it('lists bundles and resolves aliases and versions', async () => {
    expect(await listBundles(MODELS)).toEqual([{ bundle: 'opportunity-scorer', versions: ['1.0.0', '1.1.0', '2.0.0'], aliases: { production: '2.0.0', staging: '1.1.0' } }]);
    expect((await resolveModelRef(MODELS, 'opportunity-scorer@staging')).version).toBe('1.1.0');
    expect((await resolveModelRef(MODELS, 'opportunity-scorer@1.0.0')).alias).toBeUndefined();
    expect((await resolveModelRef(MODELS, 'opportunity-scorer')).version).toBe('2.0.0');
    expect(hasCode(await resolveModelRef(MODELS, 'opportunity-scorer@nope').catch((e: unknown) => e), 'MODEL_LOAD_FAILED')).toBe(true);
    expect(hasCode(await resolveModelRef(MODELS, 'opportunity-scorer@../../etc').catch((e: unknown) => e), 'MODEL_LOAD_FAILED')).toBe(true);
  });

  it('promotes atomically (write, then rename) and refuses unknown versions', async () => {
    const dir = tempModels();
    expect(await promote(dir, 'opportunity-scorer', '1.1.0', 'production')).toEqual({ previous: '2.0.0' });
    expect(JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8'))).toMatchObject({ bundles: { 'opportunity-scorer': { aliases: { production: '1.1.0' } } } });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(hasCode(await promote(dir, 'opportunity-scorer', '7.7.7', 'production').catch((e: unknown) => e), 'MODEL_LOAD_FAILED')).toBe(true);
  });
});

describe('hot reload', () => {
  it('under load: every result comes whole from one bundle, and nothing is lost', async () => {
    const dir = tempModels();
    const manager = await startManager(dir, { primary: 'opportunity-scorer@production' });
    const ops = opportunities(400, 'reload');
    const expected = {
      '2.0.0': await expectedScores(join(dir, 'opportunity-scorer', '2.0.0'), ops),
      '1.1.0': await expectedScores(join(dir, 'opportunity-scorer', '1.1.0'), ops),
    };
    const seen = new Set<string>();
    const pending: Array<Promise<ScoreOutcome[]>> = [];
    for (let round = 0; round < 20; round++) {
      pending.push(manager.engine.score(ops.slice((round * 20) % 400, ((round * 20) % 400) + 20)));
      if (round % 4 === 1) {
        await promote(dir, 'opportunity-scorer', round % 8 === 1 ? '1.1.0' : '2.0.0', 'production');
        await manager.reload();
      }
      pending.push(manager.engine.score(ops));
    }
    const results = await Promise.all(pending);
    let checked = 0;
    for (const batch of results) {
      for (const outcome of batch) {
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) continue;
        seen.add(outcome.model.version);
        const version = outcome.model.version as keyof typeof expected;
        const s = outcome.scores;
        // Find the row by its own numbers under the stamped version: all three must match that version exactly.
        const row = expected[version].findIndex(([p, su, d]) => p === s.predictedProfitPercent && su === s.successProbability && d === s.predictedDurationHours);
        expect(row, `result stamped ${version} matches that bundle's own output`).toBeGreaterThanOrEqual(0);
        expect(outcome.compositeScore).toBe(s.successProbability * s.predictedProfitPercent);
        checked++;
      }
    }
    expect(checked).toBe(20 * 20 + 20 * 400);
    expect([...seen].sort()).toEqual(['1.1.0', '2.0.0']);
  });

  it('rejects a corrupt bundle and one with another feature hash; the old bundle keeps serving', async () => {
    const dir = tempModels();
    const observed: string[] = [];
    const manager = await startManager(dir, { primary: 'opportunity-scorer@production' }, observed);
    const corrupt = join(dir, 'opportunity-scorer', '9.0.0');
    cpSync(join(dir, 'opportunity-scorer', '1.1.0'), corrupt, { recursive: true });
    const onnx = readFileSync(join(corrupt, 'profit.onnx'));
    onnx.writeUInt8(onnx.readUInt8(100) ^ 0xff, 100);
    writeFileSync(join(corrupt, 'profit.onnx'), onnx);
    const foreign = join(dir, 'opportunity-scorer', '9.1.0');
    cpSync(join(dir, 'opportunity-scorer', '1.1.0'), foreign, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(foreign, 'manifest.json'), 'utf8')) as { features: { hash: string } };
    manifest.features.hash = '0'.repeat(64);
    writeFileSync(join(foreign, 'manifest.json'), JSON.stringify(manifest));

    for (const [version, code] of [['9.0.0', 'MODEL_LOAD_FAILED'], ['9.1.0', 'MODEL_FEATURE_MISMATCH']] as const) {
      await promote(dir, 'opportunity-scorer', version, 'production');
      const failure = await manager.reload().catch((e: unknown) => e);
      expect(hasCode(failure, code), String(failure)).toBe(true);
      expect(manager.current.primary.version).toBe('2.0.0');
      const [outcome] = await manager.engine.score(opportunities(1, 'still'));
      expect(outcome?.ok && outcome.model.version).toBe('2.0.0');
      // What /ready lists while the old bundle serves.
      expect(manager.problems().join('\n')).toMatch(version === '9.0.0' ? /profit\.onnx of opportunity-scorer@1\.1\.0 is corrupt/ : /feature hash 0{64}/);
    }
    expect(observed).toEqual(['failure', 'failure']);
    await promote(dir, 'opportunity-scorer', '2.0.0', 'production');
    expect((await manager.reload()).result).toBe('unchanged');
    expect(manager.problems()).toEqual([]);
    writeFileSync(join(dir, 'registry.json'), JSON.stringify({ bundles: { 'opportunity-scorer': { aliases: { production: '7.7.7' } } } }));
    await manager.reload().catch(() => undefined);
    expect(manager.problems().join('\n')).toMatch(/opportunity-scorer@production cannot be loaded: model opportunity-scorer@production not found/);
  });
});

describe('A/B split and shadow', () => {
  it('sends 10 % ± 2 % of 10,000 ids to the canary, the same ids every time', async () => {
    const manager = await startManager(MODELS, { primary: 'opportunity-scorer@production', canary: { ref: 'opportunity-scorer@staging', percent: 10 } });
    const ops = opportunities(10_000, 'ab');
    const first = await manager.engine.score(ops);
    const canary = first.filter((o) => o.ok && o.model.version === '1.1.0').length;
    expect(canary / ops.length).toBeGreaterThanOrEqual(0.08);
    expect(canary / ops.length).toBeLessThanOrEqual(0.12);
    const again = await manager.engine.score([...ops].reverse());
    const byId = new Map(first.map((o, i) => [ops[i]?.id, o.ok ? o.model.version : 'error']));
    again.forEach((o, i) => expect(o.ok && o.model.version).toBe(byId.get(ops[ops.length - 1 - i]?.id)));
    first.forEach((o, i) => expect(o.ok && o.model.version).toBe(abBucket(ops[i] as Opportunity) < 1000 ? '1.1.0' : '2.0.0'));
  });

  it('scores every event with the shadow too, without changing the served result', async () => {
    const plain = await startManager(MODELS, { primary: 'opportunity-scorer@production' });
    const shadowed = await startManager(MODELS, { primary: 'opportunity-scorer@production', shadow: 'opportunity-scorer@staging' });
    const ops = opportunities(300, 'shadow');
    const a = await plain.engine.score(ops);
    const b = await shadowed.engine.score(ops);
    b.forEach((o, i) => {
      const p = a[i];
      expect(o.ok && p?.ok).toBe(true);
      if (!o.ok || !p?.ok) return;
      expect(o.scores).toEqual(p.scores);
      expect(o.model.version).toBe('2.0.0');
      expect(o.shadow?.model.version).toBe('1.1.0');
    });
  });
});
