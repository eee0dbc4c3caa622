// Model reloads under load: the registry's production alias moves between two versions and the worker is sent
// SIGHUP, again and again, while events stream in.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { promote } from '../../src/registry/index.js';
import { testAdmin, testKafka } from '../helpers/kafka.js';
import { sampleEvents } from '../helpers/ledger.js';
import { workerTopics } from '../helpers/service.js';
import { spawnWorker, waitFor } from '../helpers/worker.js';
import { FULL, TIMEOUT, audit, between, figures, metricValue, sleep, stream } from './support.js';

// Away from production (2.0.0) and back, alternately.
const VERSIONS = ['1.1.0', '2.0.0'] as const;

describe('fault suite: model reload under load', () => {
  it('the production alias moved and SIGHUP sent mid-stream, repeatedly: nothing lost or repeated, every result whole', async () => {
    const started = Date.now();
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const dir = mkdtempSync(join(tmpdir(), 'models-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(fileURLToPath(new URL('../../models', import.meta.url)), dir, { recursive: true });
    const worker = await spawnWorker({ ...topics.env, MODEL_DIR: dir });
    await worker.waitReady(90_000);
    const reloads = FULL ? 12 : 2;
    const events = sampleEvents(Math.max(12_000, reloads * 6_000), 'reload');
    const producing = stream(kafka, topics.input, events, 3_000);
    const reloaded = (): number => (worker.logs().match(/SIGHUP: models reloaded/g) ?? []).length;
    for (let i = 0; i < reloads; i++) {
      await sleep(between(500, 2_000));
      await promote(dir, 'opportunity-scorer', VERSIONS[i % 2] as string, 'production');
      worker.signal('SIGHUP');
      await waitFor(`reload ${i + 1}`, () => reloaded() > i, worker, 30_000);
    }
    await producing;
    const ids = events.map((e) => e.id);
    const r = await audit(kafka, topics, ids);
    const successes = await metricValue(worker, 'opportunity_scorer_model_reloads_total', { result: 'success' });
    worker.signal('SIGTERM');
    expect(await worker.exited, worker.logs().slice(-3000)).toBe(0);
    const f = figures('model reload (alias moved + SIGHUP) under load', reloads, ids, r, started);
    expect(f.missing).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.inBoth).toBe(0);
    expect(successes).toBe(reloads);
    // Each result comes whole from one bundle: its header and body name the same version, its composite its own.
    expect(new Set(r.entries.map((e) => e.headers['model-version']))).toEqual(new Set(VERSIONS));
    for (const e of r.entries) {
      const body = JSON.parse(e.value.toString()) as { modelVersion: string; compositeScore: number; successProbability: number; predictedProfitPercent: number };
      expect(body.modelVersion).toBe(e.headers['model-version']);
      expect(body.compositeScore).toBe(body.successProbability * body.predictedProfitPercent);
    }
  }, TIMEOUT);
});
