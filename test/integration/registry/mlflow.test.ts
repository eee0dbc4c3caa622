// MLflow as a model source, against a real MLflow tracking server (scripts/mlflow/mlflow.sh) and the real broker.
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { MlflowClient } from '../../../src/mlflow/index.js';
import { ScorerService } from '../../../src/service/index.js';
import { referenceRequest } from '../../fixtures/reference-request.js';
import { clientEnv, testAdmin, testKafka, uniqueName } from '../../helpers/kafka.js';
import { ledgerReport, readLedger, sampleEvents } from '../../helpers/ledger.js';
import { startInProcess, workerTopics } from '../../helpers/service.js';
import { freePort, spawnCli, spawnLogged } from '../../helpers/worker.js';

const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));
const TRAIN = fileURLToPath(new URL('../../../training/train.sh', import.meta.url));

function mlflowUrl(): string {
  const url = inject('mlflowUrl');
  if (url === '') throw new Error(`the MLflow model-source tests need a real MLflow server: ${inject('mlflowMissing')}`);
  return url;
}

/** `opportunity-scorer models push` as a user runs it; resolves with the new model version. */
async function push(env: Record<string, string>, ref: string, name: string, aliases: string[] = []): Promise<string> {
  const cli = await spawnCli(['models', 'push', ref, '--name', name, ...(aliases.length > 0 ? ['--alias', ...aliases] : [])], { LOG_LEVEL: 'warn', ...env });
  const code = await cli.exited;
  expect(code, cli.logs()).toBe(0);
  const report = JSON.parse(/\{[\s\S]*"modelVersion"[\s\S]*?\n\}/.exec(cli.logs())?.[0] ?? '{}') as { modelVersion?: string };
  expect(report.modelVersion, cli.logs()).toMatch(/^\d+$/);
  return report.modelVersion as string;
}

async function serve(env: Record<string, string>): Promise<ScorerService> {
  const config = loadConfig({ env: { LOG_LEVEL: 'warn', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...clientEnv(), ...env } });
  const service = await ScorerService.start({ config, logger: createLogger({ level: config.log.level, pretty: false }), version: 'test', mode: 'serve' });
  onTestFinished(() => service.close());
  return service;
}

/**
 * The reference request, and a batch of 100 varied ones, as bytes: everything but `latency_ms` (the seed-000 shape's
 * measured time of each call) must be identical.
 */
const predict = async (url: string): Promise<{ status: number; body: string; version: string | null }> => {
  const batch = Array.from({ length: 100 }, (_, i) => ({ ...referenceRequest, fundProfit8h: 0.01 + i * 0.03, currentPriceSpreadPercent: (i % 7) * 0.02, volume24h: 10 ** (4 + (i % 5)) }));
  const post = (path: string, body: unknown): Promise<Response> => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-correlation-id': 'mlflow-1' }, body: JSON.stringify(body) });
  const [one, many] = [await post('/predict', referenceRequest), await post('/predict/batch', batch)];
  const first = await one.text();
  const text = `${first}\n${await many.text()}`.replace(/"latency_ms":[0-9.e+-]+/g, '"latency_ms":0');
  return { status: Math.max(one.status, many.status), body: text, version: (JSON.parse(first) as { model_version?: string }).model_version ?? null };
};

const cacheDir = (): string => mkdtempSync(join(tmpdir(), 'mlflow-cache-'));

describe('MLflow as a model source (real MLflow server)', () => {
  it('models push, then serve from models:/<name>@production answers /predict byte-identically to the bundle in models/; a corrupt artifact is refused naming the file and hash while the old bundle serves; MLflow down serves from the cache', async () => {
    const tracking = mlflowUrl();
    const name = uniqueName('scorer');
    const env = { MLFLOW_TRACKING_URI: tracking, MLFLOW_CACHE_DIR: cacheDir() };
    await push(env, 'opportunity-scorer@2.0.0', name, ['production']);

    const local = await serve({ MODEL_REF: 'opportunity-scorer@2.0.0' });
    const remote = await serve({ ...env, MODEL_REF: `models:/${name}@production` });
    const [a, b] = [await predict(local.url), await predict(remote.url)];
    expect(a.status).toBe(200);
    expect(b.body).toBe(a.body);
    expect(b.version).toBe('opportunity-scorer@2.0.0');

    // One byte of success.onnx changed, the manifest (and its hash) unchanged, registered past `models push` (which
    // checks what it pushes), then the alias moved to it.
    const client = new MlflowClient({ trackingUri: tracking, timeoutMs: 10_000 });
    const corrupt = mkdtempSync(join(tmpdir(), 'corrupt-'));
    cpSync(join(MODELS, 'opportunity-scorer', '2.0.0'), corrupt, { recursive: true });
    const onnx = readFileSync(join(corrupt, 'success.onnx'));
    onnx[onnx.length - 100] = (onnx[onnx.length - 100] as number) ^ 0xff;
    writeFileSync(join(corrupt, 'success.onnx'), onnx);
    const run = await client.createRun(await client.experimentId('opportunity-scorer-tests'), 'corrupt copy', {});
    const artifactUri = `${run.artifactUri}/bundle`;
    for (const file of readdirSync(corrupt)) await client.uploadArtifact(artifactUri, file, readFileSync(join(corrupt, file)));
    const bad = await client.createModelVersion(name, artifactUri, run.runId, 'corrupt copy', {});
    await client.setAlias(name, 'production', bad.version);

    const reload = await remote.reload().then(
      () => 'swapped',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    expect(reload).toMatch(/success\.onnx of opportunity-scorer@2\.0\.0 is corrupt: sha256 [0-9a-f]{64}, manifest says 5bb1d7f36c445212a8213157943398173c42fe98f0ac4d52b9ca305e843b355b/);
    // Refused once, refused again from memory (a version's files never change), with the same reason.
    expect(await remote.reload().then(() => 'swapped', (err: unknown) => (err instanceof Error ? err.message : String(err)))).toBe(reload);
    const still = await predict(remote.url);
    expect(still.body).toBe(a.body);
    const ready = await fetch(`${remote.url}/ready`);
    expect(ready.status).toBe(200);
    const reasons = ((await ready.json()) as { reasons: string[] }).reasons;
    expect(reasons.join('\n')).toMatch(new RegExp(`models:/${name}@production cannot be loaded: .*success\\.onnx .* is corrupt`));
    expect(await (await fetch(`${remote.url}/metrics`)).text()).toMatch(/^opportunity_scorer_model_source_problems 1$/m);

    // MLflow unreachable (a port nothing listens on), the cache the service above filled: the bundle the ref last
    // resolved to loads and serves, and readiness says why nothing newer can load.
    const offline = await serve({ MLFLOW_TRACKING_URI: `http://127.0.0.1:${await freePort()}`, MLFLOW_CACHE_DIR: env.MLFLOW_CACHE_DIR, MLFLOW_TIMEOUT_MS: '2000', MODEL_REF: `models:/${name}@production` });
    expect((await predict(offline.url)).body).toBe(a.body);
    const offlineReady = await fetch(`${offline.url}/ready`);
    expect(offlineReady.status).toBe(200);
    expect(((await offlineReady.json()) as { reasons: string[] }).reasons.join('\n')).toMatch(/MLflow unreachable, serving the cached opportunity-scorer@2\.0\.0/);
  });

  it('moving the alias in MLflow while run streams events switches versions: nothing lost, every result whole', async () => {
    const tracking = mlflowUrl();
    const name = uniqueName('scorer');
    const env = { MLFLOW_TRACKING_URI: tracking, MLFLOW_CACHE_DIR: cacheDir() };
    await push(env, 'opportunity-scorer@2.0.0', name, ['production']);
    const next = await push(env, 'opportunity-scorer@1.1.0', name);

    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topics = await workerTopics(admin);
    await startInProcess({ ...topics.env, ...env, MODEL_REF: `models:/${name}@production`, MODEL_POLL_INTERVAL_MS: '250' });

    const events = sampleEvents(6_000, uniqueName('alias'));
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < events.length; i += 100) {
        if (i === 3_000) {
          const moved = await spawnCli(['models', 'promote', name, next, '--alias', 'production', '--mlflow'], { LOG_LEVEL: 'warn', ...env });
          expect(await moved.exited, moved.logs()).toBe(0);
        }
        await producer.send({ topic: topics.input, messages: events.slice(i, i + 100).map((e) => ({ key: e.id, value: JSON.stringify(e) })) });
        await sleep(50);
      }
    } finally {
      await producer.disconnect();
    }
    const ids = events.map((e) => e.id);
    const entries = await readLedger(kafka, [topics.output, topics.dlq], (es) => new Set(es.map((e) => e.id)).size >= ids.length, 120_000);
    const report = ledgerReport(entries, topics.output, ids);
    expect(report.missing).toEqual([]);
    expect(report.duplicated).toEqual([]);
    const versions = new Set<string>();
    const byPartition = new Map<number, string[]>();
    for (const e of entries) {
      const body = JSON.parse(e.value.toString('utf8')) as { modelVersion: string; modelBundle: string };
      expect(e.headers['model-version']).toBe(body.modelVersion);
      versions.add(body.modelVersion);
      byPartition.set(e.partition, [...(byPartition.get(e.partition) ?? []), body.modelVersion]);
    }
    expect([...versions].sort()).toEqual(['1.1.0', '2.0.0']);
    // Per partition the switch happens once: 2.0.0 up to some offset, 1.1.0 after it.
    for (const seq of byPartition.values()) expect(seq.join(',')).toMatch(/^(2\.0\.0,?)*(1\.1\.0,?)*$/);
  });
});

describe('scheduled retraining behind a gate (real training, real MLflow)', () => {
  it('promotes a candidate as good as production to staging, and refuses one trained on a tenth of the data naming the metric', async () => {
    const tracking = mlflowUrl();
    const name = uniqueName('scorer');
    const env = { MLFLOW_TRACKING_URI: tracking, MLFLOW_CACHE_DIR: cacheDir() };
    await push(env, 'opportunity-scorer@2.0.0', name, ['production']);
    const modelsDir = mkdtempSync(join(tmpdir(), 'models-'));
    cpSync(MODELS, modelsDir, { recursive: true });
    const candidate = async (version: string, extra: string[]): Promise<{ passed: boolean; reason: string }> => {
      const run = spawnLogged('bash', [TRAIN, '--candidate', '--version', version, '--against', `models:/${name}@production`, '--models-dir', modelsDir, '--work', mkdtempSync(join(tmpdir(), 'train-')), ...extra], {
        env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      });
      expect(await run.exited, run.logs().slice(-3000)).toBe(0);
      const last = run.logs().trim().split('\n').filter((l) => l.startsWith('{"passed"')).at(-1);
      expect(last, run.logs().slice(-3000)).toBeDefined();
      return JSON.parse(last as string) as { passed: boolean; reason: string };
    };
    const client = new MlflowClient({ trackingUri: tracking, timeoutMs: 10_000 });

    const better = await candidate('9.0.0', []);
    expect(better).toMatchObject({ passed: true });
    const staging = await client.modelVersionByAlias(name, 'staging');
    const serving = await serve({ ...env, MODEL_REF: `models:/${name}@staging` });
    expect((await predict(serving.url)).version).toBe('opportunity-scorer@9.0.0');

    const worse = await candidate('9.0.1', ['--data-share', '0.1']);
    expect(worse.passed).toBe(false);
    expect(worse.reason).toMatch(/roc_auc 0\.\d+ vs 0\.\d+ \(serving on the window/);
    // Registered, with the decision, and no alias moved.
    expect((await client.modelVersionByAlias(name, 'staging')).version).toBe(staging.version);
    expect((await client.modelVersionByAlias(name, 'production')).version).toBe('1');
    const gate = JSON.parse(readFileSync(join(modelsDir, 'opportunity-scorer', '9.0.1', 'gate.json'), 'utf8')) as { checks: Array<{ metric: string; ok: boolean }> };
    expect(gate.checks.filter((c) => !c.ok).map((c) => c.metric)).toContain('roc_auc');
  }, 600_000);
});
