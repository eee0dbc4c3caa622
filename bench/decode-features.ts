// Benchmark (not a test): µs per event for decode → validate → features, per wire format.
// Usage: npm run bench:features [-- --events 200000 --rounds 5]
// Inputs vary from event to event (a repeated input would flatter the branch predictor).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { type SchemaRegistryClient, createDecoder, frameConfluent } from '../src/codec/index.js';
import { type Opportunity, avroType, opportunitySchema, opportunityType, validateOpportunity } from '../src/contract/index.js';
import { FEATURE_COUNT, writeFeatures } from '../src/features/index.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(values.events);
const ROUNDS = Number(values.rounds);

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ (t + Math.imul(t ^ (t >>> 14), 31 | t));
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(42);
const venues = ['binance', 'bybit', 'hyperliquid', 'okx'];
const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT', 'XRPUSDT', 'SUIUSDT'];
const intervals = [1, 4, 8];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

function event(i: number): Opportunity {
  const detectedAt = Date.UTC(2026, 0, 1) + Math.floor(rand() * 90 * 86_400_000);
  const li = pick(intervals);
  const si = pick(intervals);
  const L = (rand() - 0.5) * 0.002;
  const S = (rand() - 0.3) * 0.002;
  const fundProfit8h = (S / si - L / li) * 800;
  const longExchange = pick(venues);
  return {
    id: `bench-${i}`,
    symbol: pick(symbols),
    longExchange,
    shortExchange: longExchange === 'binance' ? 'bybit' : 'binance',
    longFundingRate: L,
    shortFundingRate: S,
    longFundingIntervalHours: li,
    shortFundingIntervalHours: si,
    detectedAt,
    longNextFundingTime: detectedAt + Math.floor(rand() * li * 3_600_000),
    shortNextFundingTime: detectedAt + Math.floor(rand() * si * 3_600_000),
    fundProfit8h,
    fundApr: fundProfit8h * 1095,
    volume24h: rand() < 0.3 ? null : rand() * 1e9,
    currentPriceSpreadPercent: rand() < 0.3 ? null : (rand() - 0.5) * 0.2,
    fundProfit8h24hProj: rand() < 0.5 ? null : fundProfit8h * (0.5 + rand()),
    fundApr24hProj: null,
    priceSpread24hAvg: rand() < 0.5 ? null : (rand() - 0.5) * 0.1,
    priceSpread3dAvg: null,
  };
}

const events = Array.from({ length: N }, (_, i) => event(i));
const json = events.map((e) =>
  Buffer.from(
    JSON.stringify({
      ...e,
      detectedAt: new Date(e.detectedAt).toISOString(),
      longNextFundingTime: new Date(e.longNextFundingTime).toISOString(),
      shortNextFundingTime: new Date(e.shortNextFundingTime).toISOString(),
    }),
  ),
);
const rawAvro = events.map((e) => opportunityType.toBuffer(e));
const confluent = rawAvro.map((b) => frameConfluent(1, b));
// A registry that already knows id 1: the benchmark measures decoding, not HTTP.
const registry: SchemaRegistryClient = {
  avroSchemaById: () => Promise.resolve(avroType(opportunitySchema)),
  registerAvro: () => Promise.resolve(1),
};

const BATCH = 256;
const row = new Float32Array(BATCH * FEATURE_COUNT);

async function run(name: string, codec: 'json' | 'avro' | 'confluent-avro', buffers: Buffer[]): Promise<Record<string, unknown>> {
  const decoder = createDecoder(codec, registry);
  const perRound: number[] = [];
  const stages = { decode: 0, validate: 0, features: 0 };
  for (let round = 0; round < ROUNDS + 1; round++) {
    let decodeNs = 0n;
    let validateNs = 0n;
    let featuresNs = 0n;
    const start = process.hrtime.bigint();
    for (let i = 0; i < buffers.length; i += BATCH) {
      const t0 = process.hrtime.bigint();
      const outcomes = await decoder.decode(buffers.slice(i, i + BATCH).map((value) => ({ value })));
      const t1 = process.hrtime.bigint();
      const valid: Opportunity[] = [];
      for (const o of outcomes) {
        if (!o.ok) throw new Error(o.error.message);
        const r = validateOpportunity(o.record);
        if (!r.ok) throw new Error(JSON.stringify(r.problems));
        valid.push(r.value);
      }
      const t2 = process.hrtime.bigint();
      for (let k = 0; k < valid.length; k++) writeFeatures(valid[k] as Opportunity, row, k * FEATURE_COUNT);
      const t3 = process.hrtime.bigint();
      decodeNs += t1 - t0;
      validateNs += t2 - t1;
      featuresNs += t3 - t2;
    }
    const total = Number(process.hrtime.bigint() - start) / 1000 / buffers.length;
    if (round === 0) continue; // warm-up
    perRound.push(total);
    stages.decode += Number(decodeNs) / 1000 / buffers.length / ROUNDS;
    stages.validate += Number(validateNs) / 1000 / buffers.length / ROUNDS;
    stages.features += Number(featuresNs) / 1000 / buffers.length / ROUNDS;
  }
  perRound.sort((a, b) => a - b);
  const median = perRound[Math.floor(perRound.length / 2)] ?? Number.NaN;
  return {
    codec: name,
    usPerEventMedian: Number(median.toFixed(3)),
    usPerEventMin: Number((perRound[0] ?? Number.NaN).toFixed(3)),
    eventsPerSecond: Math.round(1e6 / median),
    usDecode: Number(stages.decode.toFixed(3)),
    usValidate: Number(stages.validate.toFixed(3)),
    usFeatures: Number(stages.features.toFixed(3)),
  };
}

const results = [await run('json', 'json', json), await run('avro', 'avro', rawAvro), await run('confluent-avro', 'confluent-avro', confluent)];
const report = {
  benchmark: 'decode-validate-features',
  date: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  node: process.version,
  events: N,
  rounds: ROUNDS,
  batch: BATCH,
  results,
};
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/decode-features.json', `${JSON.stringify(report, null, 2)}\n`);
console.table(results);
console.log(`${report.machine.cores} cores, ${report.machine.cpu}, Node ${report.node}; ${N} distinct events × ${ROUNDS} rounds, batches of ${BATCH}`);
