import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type RecordEncoder, createDecoder, createEncoder } from '../../../src/codec/index.js';
import { ScoringEngine } from '../../../src/inference/index.js';
import { createMetrics } from '../../../src/metrics/index.js';
import { HEADER, type SourceRecord, processRecords } from '../../../src/pipeline/index.js';
import { loadReadyBundle } from '../../../src/registry/index.js';

const SAMPLE = fileURLToPath(new URL('../../../samples/opportunities.jsonl', import.meta.url));
const MODELS = fileURLToPath(new URL('../../../models/opportunity-scorer', import.meta.url));
const events = readFileSync(SAMPLE, 'utf8').trim().split('\n').slice(0, 8).map((l) => JSON.parse(l) as Record<string, unknown>);

async function engine(shadow?: string): Promise<ScoringEngine> {
  const primary = await loadReadyBundle(join(MODELS, '1.0.0'));
  const shadowBundle = shadow === undefined ? undefined : await loadReadyBundle(join(MODELS, shadow));
  const e = new ScoringEngine({ primary, shadow: shadowBundle }, { maxSize: 64, maxDelayMs: 0, queueMax: 256 });
  onTestFinished(async () => {
    await e.close();
    await primary.close();
    await shadowBundle?.close();
  });
  return e;
}

const record = (offset: number, value: Buffer | null, key: string | null = null): SourceRecord => ({
  topic: 'in',
  partition: 3,
  offset: String(offset),
  timestamp: '1773759660000',
  key: key === null ? null : Buffer.from(key),
  value,
  headers: { trace: 'abc', [HEADER.modelVersion]: 'spoofed' },
});

const json = (e: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(e));

describe('processRecords (decode → scoring core → encode)', () => {
  it('scores valid events, dead-letters bad ones with their original bytes and reason, in one pass', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    const { id: _id, ...withoutId } = events[1] as Record<string, unknown>;
    const notJson = Buffer.from('{"id": ');
    const invalid = json({ ...events[2], fundApr: 'high' });
    const records = [record(10, json(events[0] as Record<string, unknown>), 'k0'), record(11, json(withoutId)), record(12, notJson), record(13, invalid), record(14, null)];
    const out = await processRecords(records, { decoder: createDecoder('json', undefined), encoder: await createEncoder('json', { subject: 'x' }), engine: await engine(), maxEventAgeMs: 0, stalePolicy: 'score', metrics });

    expect(out.outputs).toHaveLength(2);
    const first = JSON.parse(out.outputs[0]?.value.toString() ?? '') as { id: string; source: unknown; modelVersion: string };
    expect(first).toMatchObject({ id: events[0]?.id, modelVersion: '1.0.0', source: { topic: 'in', partition: 3, offset: 10 } });
    expect(out.outputs[0]?.key?.toString()).toBe('k0');
    // An event without an id gets one from its position; the key falls back to it.
    expect(JSON.parse(out.outputs[1]?.value.toString() ?? '')).toMatchObject({ id: 'in-3-11' });
    expect(out.outputs[1]?.key).toBe('in-3-11');
    // Input headers are carried, ours are set (a spoofed model-version header is replaced).
    expect(out.outputs[0]?.headers).toMatchObject({ trace: 'abc', [HEADER.modelVersion]: '1.0.0', [HEADER.modelBundle]: 'opportunity-scorer' });

    expect(out.deadLetters.map((d) => d.headers[HEADER.dlqReason])).toEqual(['DECODE_FAILED', 'VALIDATION_FAILED', 'DECODE_FAILED']);
    expect(out.deadLetters[0]?.value).toEqual(notJson);
    expect(out.deadLetters[1]?.value).toEqual(invalid);
    expect(String(out.deadLetters[1]?.headers[HEADER.dlqMessage])).toMatch(/fundApr/);
    expect(out.deadLetters[1]?.headers).toMatchObject({ [HEADER.dlqTopic]: 'in', [HEADER.dlqPartition]: '3', [HEADER.dlqOffset]: '13', trace: 'abc' });
    expect(out.scoredTimes).toHaveLength(2);
    expect((await metrics.eventsDeadLettered.get()).values.map((v) => [v.labels.reason, v.value])).toEqual([
      ['DECODE_FAILED', 2],
      ['VALIDATION_FAILED', 1],
    ]);
  });

  it('applies the staleness policy: dead-letter names the age, drop counts it', async () => {
    const now = (events[0]?.detectedAt as number) + 120_000;
    const options = { decoder: createDecoder('json', undefined), encoder: await createEncoder('json', { subject: 'x' }), engine: await engine(), maxEventAgeMs: 60_000, now: () => now };
    const records = [record(1, json(events[0] as Record<string, unknown>))];
    const dead = await processRecords(records, { ...options, stalePolicy: 'dead-letter' });
    expect(dead.deadLetters.map((d) => d.headers[HEADER.dlqReason])).toEqual(['STALE_EVENT']);
    expect(String(dead.deadLetters[0]?.headers[HEADER.dlqMessage])).toMatch(/120000 ms old/);
    const dropped = await processRecords(records, { ...options, stalePolicy: 'drop' });
    expect(dropped).toMatchObject({ dropped: 1, outputs: [], deadLetters: [] });
    const scored = await processRecords(records, { ...options, stalePolicy: 'score' });
    expect(scored.outputs).toHaveLength(1);
  });

  it('publishes shadow results beside the real ones; a shadow result that cannot be encoded is counted, not fatal', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    const json = await createEncoder('json', { subject: 'x' });
    const refusingShadow: RecordEncoder = {
      format: json.format,
      contentType: json.contentType,
      encode: (r) => {
        if (r.modelVersion === '2.0.0') throw new Error('no room for shadows');
        return json.encode(r);
      },
    };
    const records = events.slice(0, 3).map((e, i) => record(i, Buffer.from(JSON.stringify(e))));
    const options = { decoder: createDecoder('json', undefined), engine: await engine('2.0.0'), maxEventAgeMs: 0, stalePolicy: 'score' as const, metrics };
    const both = await processRecords(records, { ...options, encoder: json });
    expect(both.outputs).toHaveLength(3);
    expect(both.shadowOutputs.map((r) => r.headers[HEADER.modelVersion])).toEqual(['2.0.0', '2.0.0', '2.0.0']);
    const refused = await processRecords(records, { ...options, encoder: refusingShadow });
    expect(refused.outputs).toHaveLength(3);
    expect(refused.shadowOutputs).toEqual([]);
    expect((await metrics.shadowEncodeFailures.get()).values[0]?.value).toBe(3);
  });
});
