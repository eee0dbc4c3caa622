import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../config/index.js';
import { JSON_CONTENT_TYPE } from '../codec/index.js';
import { outcomeToJson, validateOutcome } from '../contract/index.js';
import { createKafkaPort, type OutMessage } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';

export interface OutcomesReplayOptions {
  readonly file: string;
  readonly topic?: string;
  readonly rate: string;
  readonly delay?: string;
}

const TICK_MS = 10;
const HOUR_MS = 3_600_000;

/**
 * The outcome a sample row's label columns describe: the trade opened at detectedAt, held labelDurationHours and
 * closed with labelProfitPercent (success: labelSuccess). Rows without labels have no outcome.
 */
export function outcomeOfSample(row: Record<string, unknown>): Record<string, unknown> | undefined {
  const { id, detectedAt, labelProfitPercent, labelDurationHours, labelSuccess } = row;
  if (typeof id !== 'string' || typeof labelProfitPercent !== 'number' || typeof labelDurationHours !== 'number') return undefined;
  const opened = typeof detectedAt === 'number' ? detectedAt : Date.parse(String(detectedAt));
  if (!Number.isFinite(opened)) return undefined;
  return { id, closedAt: opened + Math.round(labelDurationHours * HOUR_MS), realisedProfitPercent: labelProfitPercent, holdHours: labelDurationHours, ...(typeof labelSuccess === 'number' ? { success: labelSuccess > 0 } : {}) };
}

/**
 * `outcomes replay`: publishes the outcomes of a labelled sample (samples/opportunities.jsonl) to the outcomes
 * topic at a steady rate, keyed by id, after an optional delay, so a demo shows the loop end to end: scored
 * events and their outcomes meet in the monitor.
 */
export async function outcomesReplayCommand(opts: OutcomesReplayOptions, config: AppConfig, logger: Logger, signal: AbortSignal): Promise<number> {
  const rate = Number(opts.rate);
  const delayMs = Number(opts.delay ?? '0');
  const topic = opts.topic ?? config.monitor.outcomesTopic;
  if (!(rate > 0) || !(delayMs >= 0)) {
    logger.error({ rate: opts.rate, delay: opts.delay }, 'outcomes replay needs --rate > 0 and --delay >= 0');
    return 2;
  }
  if (delayMs > 0) await sleep(delayMs, undefined, { signal }).catch(() => undefined);
  const producer = await createKafkaPort(config.kafka, logger).producer();
  const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  const started = performance.now();
  let sent = 0;
  let skipped = 0;
  let ticks = 0;
  let batch: OutMessage[] = [];
  const flush = async (): Promise<void> => {
    await producer.send(batch);
    sent += batch.length;
    batch = [];
    ticks++;
    const wait = started + ticks * TICK_MS - performance.now();
    if (wait > 0) await sleep(wait);
  };
  try {
    for await (const line of createInterface({ input: createReadStream(opts.file), crlfDelay: Number.POSITIVE_INFINITY })) {
      if (signal.aborted) break;
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        skipped++;
        continue;
      }
      const outcome = outcomeOfSample(row as Record<string, unknown>);
      const valid = outcome === undefined ? undefined : validateOutcome(outcome);
      if (valid?.ok !== true) {
        skipped++;
        continue;
      }
      batch.push({ topic, key: valid.value.id, value: Buffer.from(JSON.stringify(outcomeToJson(valid.value))), headers: { 'content-type': JSON_CONTENT_TYPE } });
      if (batch.length >= perTick) await flush();
    }
    if (batch.length > 0 && !signal.aborted) await flush();
  } finally {
    await producer.close();
  }
  logger.info({ sent, skipped, topic, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) }, 'outcomes replay finished');
  return 0;
}
