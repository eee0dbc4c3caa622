import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../config/index.js';
import { JSON_CONTENT_TYPE } from '../codec/index.js';
import { outcomeToJson, validateOutcome } from '../contract/index.js';
import { createKafkaPort } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';
import { SteadySender } from './steady.js';

export interface OutcomesReplayOptions {
  readonly file: string;
  readonly topic?: string;
  readonly rate: string;
  readonly delay?: string;
}

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
  const sender = new SteadySender(producer, rate);
  let skipped = 0;
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
      await sender.add({ topic, key: valid.value.id, value: Buffer.from(JSON.stringify(outcomeToJson(valid.value))), headers: { 'content-type': JSON_CONTENT_TYPE } });
    }
    if (!signal.aborted) await sender.flush();
  } finally {
    await producer.close();
  }
  logger.info({ sent: sender.sent, skipped, topic, seconds: Number(sender.seconds.toFixed(1)) }, 'outcomes replay finished');
  return 0;
}
