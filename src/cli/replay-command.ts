import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AppConfig } from '../config/index.js';
import { createKafkaPort } from '../kafka/index.js';
import type { Logger } from '../logging/index.js';
import { SteadySender } from './steady.js';

export interface ReplayCommandOptions {
  readonly file: string;
  readonly topic?: string;
  readonly rate: string;
  readonly loop?: boolean;
  readonly rounds?: string;
}

/**
 * Replays a JSONL file of opportunities into the input topic at a steady rate, keyed by id: the compose stack's
 * demo producer, and a way to push a recorded day through a staging deployment. Later rounds (`--rounds`,
 * `--loop`) suffix ids with `#<round>` so every event stays distinct downstream. Lines are sent as they are, so a
 * bad line reaches the scorer and is dead-lettered there, as it would be from any producer.
 */
export async function replayCommand(opts: ReplayCommandOptions, config: AppConfig, logger: Logger, signal: AbortSignal): Promise<number> {
  const rate = Number(opts.rate);
  const rounds = opts.loop === true ? Number.POSITIVE_INFINITY : Number(opts.rounds ?? '1');
  const topic = opts.topic ?? config.topics.input[0];
  if (!(rate > 0) || !(rounds >= 1) || topic === undefined) {
    logger.error({ rate: opts.rate, rounds: opts.rounds, topic }, 'replay needs --rate > 0, --rounds >= 1 and a topic');
    return 2;
  }
  const producer = await createKafkaPort(config.kafka, logger).producer();
  const sender = new SteadySender(producer, rate);
  try {
    for (let round = 0; round < rounds && !signal.aborted; round++) {
      const lines = createInterface({ input: createReadStream(opts.file), crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) {
        if (signal.aborted) break;
        if (line.trim() === '') continue;
        await sender.add({ topic, headers: {}, ...keyed(line, round) });
      }
      if (!signal.aborted) await sender.flush();
      logger.info({ round, sent: sender.sent, topic, eventsPerSecond: Math.round(sender.sent / sender.seconds) }, 'replay round done');
    }
  } finally {
    await producer.close();
  }
  logger.info({ sent: sender.sent, topic, seconds: Number(sender.seconds.toFixed(1)) }, 'replay finished');
  return 0;
}

function keyed(line: string, round: number): { key: string | null; value: Buffer } {
  try {
    const event = JSON.parse(line) as { id?: unknown };
    if (typeof event.id !== 'string') return { key: null, value: Buffer.from(line) };
    if (round === 0) return { key: event.id, value: Buffer.from(line) };
    const id = `${event.id}#${round}`;
    return { key: id, value: Buffer.from(JSON.stringify({ ...event, id })) };
  } catch {
    return { key: null, value: Buffer.from(line) };
  }
}
