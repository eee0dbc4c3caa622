// Network faults through Toxiproxy (the real proxy, scripts/toxiproxy/toxiproxy.sh): the worker under test reaches
// the broker (and in the last scenario the schema registry) only through the proxy, since the broker's proxied
// listener advertises the proxy's address; the test's producer and the ledger go direct, so the faults touch the
// worker alone.
import { type ICreateToxicBody, type Proxy, Toxiproxy } from 'toxiproxy-node-client';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { confluentSchemaRegistry, frameConfluent } from '../../src/codec/index.js';
import { avroType, opportunitySchema, validateOpportunity } from '../../src/contract/index.js';
import { readTopics } from '../../src/ledger/index.js';
import { testAdmin, testKafka, testPort, uniqueName } from '../helpers/kafka.js';
import { ledgerReport, sampleEvents } from '../helpers/ledger.js';
import { workerTopics } from '../helpers/service.js';
import { type WorkerProcess, spawnWorker } from '../helpers/worker.js';
import { FULL, TIMEOUT, audit, figures, metricValue, sleep, stream } from './support.js';

const RATE = 500;
/** How long each fault lasts: the figures in the full profile, shorter in CI. */
const FAULT_S = FULL ? 20 : 8;
const UNREACHABLE_S = FULL ? 15 : 6;
/** A member silent for longer than its session timeout is removed from the group, and must rejoin after. */
const SESSION_MS = FULL ? 10_000 : 6_000;
const BEYOND_SESSION_S = SESSION_MS / 1000 + (FULL ? 15 : 6);

type Toxic = ICreateToxicBody<unknown>;

function toxiproxy(): Toxiproxy {
  const url = inject('toxiproxyUrl');
  if (url === '') throw new Error(`the network-fault scenarios need Toxiproxy: ${inject('toxiproxyMissing')}`);
  return new Toxiproxy(url);
}

/** What the worker went through, from its log and metrics: evidence the fault reached it. */
async function effects(worker: WorkerProcess): Promise<{ joins: number; retries: number; meanAgeMs: number }> {
  const count = (re: RegExp): number => (worker.logs().match(re) ?? []).length;
  const [sum, n] = [await metricValue(worker, 'opportunity_scorer_event_age_seconds_sum', { clock: 'kafka' }), await metricValue(worker, 'opportunity_scorer_event_age_seconds_count', { clock: 'kafka' })];
  return { joins: count(/"msg":"joined the consumer group"/g), retries: count(/failed; retrying/g), meanAgeMs: n > 0 ? Math.round((sum / n) * 1000) : Number.NaN };
}

/** A fresh proxy named `name` from `listen` to `upstream` (an earlier test's is replaced), removed when the test ends. */
async function proxy(name: string, listen: string, upstream: string): Promise<Proxy> {
  if (listen === '' || upstream === '') {
    throw new Error(`no proxied listener for ${name}: with KAFKA_BROKERS, set KAFKA_PROXY_UPSTREAM to a listener of that cluster advertised as KAFKA_PROXY_LISTEN`);
  }
  const api = toxiproxy();
  await api
    .get(name)
    .then((old) => old.remove())
    .catch(() => undefined);
  const created = await api.createProxy({ name, listen, upstream });
  onTestFinished(() => created.remove().catch(() => undefined));
  return created;
}

interface Fault {
  readonly name: string;
  readonly seconds: number;
  /** The worker must be seen to lose its group and join it again. */
  readonly rejoins?: boolean;
  /** Events per second while it lasts (default RATE). */
  readonly rate?: number;
  /** Extra worker settings for the scenario. */
  readonly env?: Record<string, string>;
  readonly toxics: readonly Toxic[];
}

/** The same toxic on both directions (requests and responses). */
const both = (toxic: Omit<Toxic, 'stream'>): Toxic[] => [
  { ...toxic, name: `${toxic.name}-down`, stream: 'downstream' },
  { ...toxic, name: `${toxic.name}-up`, stream: 'upstream' },
];

const FAULTS: readonly Fault[] = [
  { name: `latency 200 ± 100 ms for ${FAULT_S} s`, seconds: FAULT_S, toxics: [{ name: 'latency', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 200, jitter: 100 } }] },
  // Every connection is reset 3 s after the toxic sees it, new ones too: resets every few seconds while it lasts.
  { name: `connections reset every 3 s for ${FAULT_S} s`, seconds: FAULT_S, toxics: [{ name: 'reset', type: 'reset_peer', stream: 'downstream', toxicity: 1, attributes: { timeout: 3_000 } }] },
  { name: `broker unreachable for ${UNREACHABLE_S} s`, seconds: UNREACHABLE_S, toxics: both({ name: 'timeout', type: 'timeout', toxicity: 1, attributes: { timeout: 0 } }) },
  {
    name: `broker unreachable for ${BEYOND_SESSION_S} s, beyond the ${SESSION_MS / 1000} s session timeout`,
    seconds: BEYOND_SESSION_S,
    rejoins: true,
    env: { CONSUMER_SESSION_TIMEOUT_MS: String(SESSION_MS) },
    toxics: both({ name: 'timeout', type: 'timeout', toxicity: 1, attributes: { timeout: 0 } }),
  },
  // 2,000 events/s is about 2 MB/s of input and output through the proxy: the cap bites.
  { name: `bandwidth capped to 1 MB/s for ${FAULT_S} s`, seconds: FAULT_S, rate: 2_000, toxics: both({ name: 'bandwidth', type: 'bandwidth', toxicity: 1, attributes: { rate: 1_024 } }) },
];

describe('fault suite: network faults through Toxiproxy', () => {
  for (const fault of FAULTS) {
    it.each(['at-least-once', 'exactly-once'] as const)(`%s: ${fault.name}: nothing lost, nothing dead-lettered`, async (delivery) => {
      const started = Date.now();
      const kafka = testKafka();
      const topics = await workerTopics(await testAdmin(kafka));
      const broker = await proxy('kafka', inject('kafkaProxyListen'), inject('kafkaProxyUpstream'));
      const worker = await spawnWorker({ ...topics.env, KAFKA_BROKERS: broker.listen, DELIVERY: delivery, CONSUMER_SESSION_TIMEOUT_MS: '10000', ...fault.env });
      await worker.waitReady(90_000);
      // Events from 2 s before the fault to 2 s after it: the backlog it leaves is caught up under load.
      const rate = fault.rate ?? RATE;
      const events = sampleEvents(rate * (4 + fault.seconds), `net-${delivery}`);
      const producing = stream(kafka, topics.input, events, rate);
      await sleep(2_000);
      for (const toxic of fault.toxics) await broker.addToxic(toxic);
      console.log(`[faults] network: ${fault.name} from ${Math.round((Date.now() - started) / 1000)} s`);
      await sleep(fault.seconds * 1000);
      for (const toxic of fault.toxics) await (await broker.getToxic(toxic.name)).remove();
      await producing;
      const ids = events.map((e) => e.id);
      const r = await audit(kafka, topics, ids, 240_000);
      expect(worker.proc.exitCode, worker.logs().slice(-3000)).toBeNull();
      const f = figures(`network: ${fault.name} (${delivery})`, 1, ids, r, started);
      const seen = await effects(worker);
      console.log(`[faults] network: ${fault.name} (${delivery}), the worker: ${JSON.stringify(seen)}`);
      expect(f.missing, `missing ${f.missing}; worker log:\n${worker.logs().slice(-3000)}`).toBe(0);
      if (fault.rejoins === true) expect(seen.joins, worker.logs().slice(-3000)).toBeGreaterThan(1);
      expect(r.entries.filter((e) => e.topic === topics.dlq).length).toBe(0);
      if (delivery === 'exactly-once' && f.duplicated > 0) {
        // The audit reads through kafkajs (with the project's aborted-transaction fix); a second reader through
        // @platformatic/kafka tells a real duplicate from a record of an aborted transaction that got through.
        const other = await readTopics(testPort({ KAFKA_CLIENT: 'platformatic' }), [topics.output, topics.dlq], { until: (es) => new Set(es.map((e) => e.id)).size >= ids.length, timeoutMs: 60_000, idleMs: 3_000 });
        const again = ledgerReport(other, topics.output, ids);
        expect(f.duplicated, `duplicated ${f.duplicated} (read again through @platformatic/kafka: ${again.duplicated.length}); worker log:\n${worker.logs().slice(-20_000)}`).toBe(0);
      }
      worker.signal('SIGTERM');
      expect(await Promise.race([worker.exited, sleep(60_000).then(() => 'still running 60 s after SIGTERM')]), worker.logs().slice(-3000)).toBe(0);
    }, TIMEOUT);
  }

  it.each(['at-least-once', 'exactly-once'] as const)(`%s: the schema registry unreachable for ${UNREACHABLE_S} s while Confluent-Avro events flow: they wait, none is dead-lettered`, async (delivery) => {
    const started = Date.now();
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const registry = await proxy('registry', inject('registryProxyListen'), inject('registryProxyUpstream'));
    const direct = inject('schemaRegistryUrl');
    // The writer schema is registered (directly) before the outage, and the worker has never seen its id.
    const schemaId = await confluentSchemaRegistry({ url: direct }).registerAvro(uniqueName('net-value'), opportunitySchema);
    const type = avroType(opportunitySchema);
    const encode = (e: { id: string }): Buffer => {
      const op = validateOpportunity(e);
      if (!op.ok) throw new Error(`sample event ${e.id} is invalid`);
      return frameConfluent(schemaId, type.toBuffer(op.value));
    };
    const worker = await spawnWorker({ ...topics.env, DELIVERY: delivery, INPUT_CODEC: 'confluent-avro', SCHEMA_REGISTRY_URL: direct.replace(inject('registryProxyUpstream'), registry.listen) });
    await worker.waitReady(90_000);
    await registry.update({ enabled: false, listen: registry.listen, upstream: registry.upstream });
    console.log(`[faults] network: registry down from ${Math.round((Date.now() - started) / 1000)} s`);
    const events = sampleEvents(RATE * (2 + UNREACHABLE_S), `net-registry-${delivery}`);
    const producing = stream(kafka, topics.input, events, RATE, encode);
    await sleep(UNREACHABLE_S * 1000);
    await registry.update({ enabled: true, listen: registry.listen, upstream: registry.upstream });
    await producing;
    const ids = events.map((e) => e.id);
    const r = await audit(kafka, topics, ids, 240_000);
    const f = figures(`network: schema registry unreachable for ${UNREACHABLE_S} s (${delivery})`, 1, ids, r, started);
    const seen = await effects(worker);
    console.log(`[faults] network: schema registry unreachable (${delivery}), the worker: ${JSON.stringify(seen)}`);
    // The events met the outage: their batches failed with SCHEMA_REGISTRY_UNAVAILABLE and were retried.
    expect(worker.logs()).toContain('SCHEMA_REGISTRY_UNAVAILABLE');
    expect(f.missing, worker.logs().slice(-3000)).toBe(0);
    expect(r.entries.filter((e) => e.topic === topics.dlq).map((e) => e.headers['dlq-reason'])).toEqual([]);
    if (delivery === 'exactly-once') expect(f.duplicated, `duplicated ${f.duplicated}; worker log:\n${worker.logs().slice(-20_000)}`).toBe(0);
    worker.signal('SIGTERM');
    expect(await Promise.race([worker.exited, sleep(60_000).then(() => 'still running 60 s after SIGTERM')]), worker.logs().slice(-3000)).toBe(0);
  }, TIMEOUT);
});
