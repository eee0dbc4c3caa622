import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildHttpApp } from '../../../src/http/index.js';
import { ScoringEngine } from '../../../src/inference/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { createMetrics } from '../../../src/metrics/index.js';
import { ModelManager, RegistrySource, promote } from '../../../src/registry/index.js';

const TOKEN = 'an-admin-token-of-some-length';

async function app(adminToken: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'models-'));
  cpSync(fileURLToPath(new URL('../../../models', import.meta.url)), dir, { recursive: true });
  const logger = createLogger({ level: 'silent', pretty: false });
  const manager = await ModelManager.start(new RegistrySource({ modelDir: dir, log: logger }), { primary: 'opportunity-scorer@production' }, (r) => new ScoringEngine(r, { maxSize: 16, maxDelayMs: 1, queueMax: 100 }), logger);
  const http = buildHttpApp({
    logger,
    metrics: createMetrics(new Registry(), { defaultMetrics: false }),
    version: 'test',
    engine: () => manager.engine,
    models: () => [{ bundle: manager.engine.bundle, alias: 'production', role: 'primary', sharePercent: 100, metrics: {} }],
    reload: async () => {
      const r = await manager.reload();
      return { result: r.result, serving: [`${r.routing.primary.bundle}@${r.routing.primary.version}`] };
    },
    adminToken,
    readiness: () => ({ ready: true, reasons: [] }),
    draining: () => false,
    limits: { bodyLimitBytes: 1 << 20, jsonMaxDepth: 32, batchMaxItems: 10, corsOrigins: undefined },
  });
  onTestFinished(async () => {
    await http.close();
    await manager.engine.close();
    await manager.close();
  });
  return { http, dir, manager };
}

describe('POST /models/reload', () => {
  it('does not exist without ADMIN_TOKEN', async () => {
    const { http } = await app(undefined);
    expect((await http.inject({ method: 'POST', url: '/models/reload', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(404);
  });

  it('requires the bearer token, then swaps to what the registry names now', async () => {
    const { http, dir, manager } = await app(TOKEN);
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token', `Basic ${TOKEN}`, TOKEN]) {
      const res = await http.inject({ method: 'POST', url: '/models/reload', headers: authorization === undefined ? {} : { authorization } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await http.inject({ method: 'POST', url: '/models/reload', headers: auth })).json()).toEqual({ result: 'unchanged', serving: ['opportunity-scorer@2.0.0'] });
    await promote(dir, 'opportunity-scorer', '1.1.0', 'production');
    expect((await http.inject({ method: 'POST', url: '/models/reload', headers: auth })).json()).toEqual({ result: 'swapped', serving: ['opportunity-scorer@1.1.0'] });
    expect(manager.engine.bundle.version).toBe('1.1.0');
    await promote(dir, 'opportunity-scorer', '9.9.9', 'production').catch(() => undefined);
  });
});

describe('the replaced servers’ reload routes (004 /reload/{name}, 001 /api/ml/models/{name}/reload)', () => {
  it('need the bearer token, name a loaded bundle, and run the one atomic reload', async () => {
    const { http, dir } = await app(TOKEN);
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const base of ['/reload', '/api/ml/models']) {
      const url = (name: string): string => (base === '/reload' ? `/reload/${name}` : `${base}/${name}/reload`);
      expect((await http.inject({ method: 'POST', url: url('opportunity-scorer') })).statusCode).toBe(401);
      const unknown = await http.inject({ method: 'POST', url: url('your_model'), headers: auth });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json<{ detail: Array<{ msg: string }> }>().detail[0]?.msg).toBe('no loaded model named your_model; loaded: opportunity-scorer');
      expect((await http.inject({ method: 'POST', url: url('opportunity-scorer'), headers: auth })).json()).toEqual({ message: 'Reloading model opportunity-scorer', result: 'unchanged', serving: ['opportunity-scorer@2.0.0'] });
    }
    await promote(dir, 'opportunity-scorer', '1.1.0', 'production');
    expect((await http.inject({ method: 'POST', url: '/reload/opportunity-scorer', headers: auth })).json()).toMatchObject({ result: 'swapped', serving: ['opportunity-scorer@1.1.0'] });
  });
});
