// Synchronous /predict under load while faults hit the same process: a member of its group is killed (rebalance),
// the production alias moves and it reloads (SIGHUP), and its broker stops for a while. /predict needs no broker, so
// none of this may show to HTTP callers as anything but a 2xx, or a 503 with Retry-After where the docs promise one.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { describe, expect, it, onTestFinished } from 'vitest';
import { promote } from '../../src/registry/index.js';
import { referenceRequest } from '../fixtures/reference-request.js';
import { sampleEvents } from '../helpers/ledger.js';
import { spawnWorker, waitFor } from '../helpers/worker.js';
import { FULL, TIMEOUT, audit, figures, ownBroker, sleep, stream } from './support.js';

describe('fault suite: HTTP under load and faults', () => {
  it('/predict at 2,000 req/s through a group member kill, a reload and a broker stop: no 5xx but 503 + Retry-After', async () => {
    const started = Date.now();
    const broker = await ownBroker();
    const { kafka, topics } = broker;
    const models = mkdtempSync(join(tmpdir(), 'models-'));
    onTestFinished(() => rmSync(models, { recursive: true, force: true }));
    cpSync(fileURLToPath(new URL('../../models', import.meta.url)), models, { recursive: true });
    const env = { ...topics.env, CONSUMER_SESSION_TIMEOUT_MS: '6000', MODEL_DIR: models };
    const served = await spawnWorker(env);
    const other = await spawnWorker(env);
    await served.waitReady(90_000);
    await other.waitReady(90_000);

    const seconds = FULL ? 40 : 15;
    const events = sampleEvents(seconds * 500, 'http-load');
    const producing = stream(kafka, topics.input, events, 500);
    const statuses = new Map<number, number>();
    let unpromised = 0; // 5xx other than a 503 with Retry-After
    const load = autocannon({
      url: `http://127.0.0.1:${served.port}`,
      connections: 16,
      overallRate: 2_000,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/predict',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(referenceRequest),
          onResponse: (status: number, _body: string, _context: object, headers: IncomingHttpHeaders | undefined) => {
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status >= 500 && !(status === 503 && Object.keys(headers ?? {}).some((h) => h.toLowerCase() === 'retry-after'))) unpromised++;
          },
        },
      ],
    });

    const reloaded = (): number => (served.logs().match(/SIGHUP: models reloaded/g) ?? []).length;
    await sleep(seconds * 150);
    other.signal('SIGKILL'); // the served member's partitions are revoked and reassigned
    await sleep(seconds * 150);
    await promote(models, 'opportunity-scorer', '1.1.0', 'production');
    served.signal('SIGHUP');
    await waitFor('the reload', () => reloaded() >= 1, served, 30_000);
    await sleep(seconds * 100);
    broker.stop();
    await sleep(seconds * 200);
    broker.start();
    const result = await load;
    await producing;

    const ids = events.map((e) => e.id);
    const r = await audit(kafka, topics, ids, 120_000);
    served.signal('SIGTERM');
    expect(await served.exited, served.logs().slice(-3000)).toBe(0);
    const f = figures('/predict at 2,000 req/s: member killed, reload, broker stopped', 3, ids, r, started);
    const counts = Object.fromEntries(statuses);
    console.log(`[faults] http under faults: ${JSON.stringify({ requests: result.requests.total, rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, statuses: counts, errors: result.errors, timeouts: result.timeouts, unpromised5xx: unpromised })}`);
    expect(unpromised, JSON.stringify(counts)).toBe(0);
    expect(result.errors + result.timeouts, 'connection errors or timeouts').toBe(0);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(f.missing).toBe(0);
  }, TIMEOUT);
});
