import { readFile, writeFile } from 'node:fs/promises';
import type { AppConfig } from '../config/index.js';
import { createKafkaPort } from '../kafka/index.js';
import { ledgerReport, readTopics } from '../ledger/index.js';
import type { Logger } from '../logging/index.js';
import { INTERRUPTED_EXIT_CODE } from '../lifecycle/index.js';

export interface LedgerCommandOptions {
  readonly ids?: string;
  readonly inputTopic?: string;
  readonly outputTopic?: string;
  readonly dlqTopic?: string;
  readonly exactlyOnce?: boolean;
  readonly report?: string;
  readonly sample: string;
}

/**
 * Audits delivery: every expected id must be in the output or the dead-letter topic, not both; with
 * --exactly-once, none twice. Exit 0 when it holds, 1 when it does not, 2 on bad arguments, 130 when `signal`
 * aborted the audit (no verdict).
 */
export async function ledgerCommand(opts: LedgerCommandOptions, config: AppConfig, logger: Logger, signal: AbortSignal): Promise<number> {
  if ((opts.ids === undefined) === (opts.inputTopic === undefined)) {
    logger.error('ledger needs exactly one of --ids <file> and --input-topic <name>');
    return 2;
  }
  const kafka = createKafkaPort(config.kafka, logger);
  const outputTopic = opts.outputTopic ?? config.topics.output;
  const dlqTopic = opts.dlqTopic ?? config.topics.deadLetter;
  // The expected ids and the audited topics are independent reads: side by side.
  const [expected, entries] = await Promise.all([
    opts.ids !== undefined
      ? readFile(opts.ids, 'utf8').then((text) => text.split('\n').map((l) => l.trim()).filter((l) => l !== ''))
      : readTopics(kafka, [opts.inputTopic as string]).then((es) => es.flatMap((e) => (e.id === undefined ? [] : [e.id]))),
    readTopics(kafka, [outputTopic, dlqTopic]),
  ]);
  if (signal.aborted) {
    logger.warn('ledger interrupted: no verdict');
    return INTERRUPTED_EXIT_CODE;
  }
  const report = ledgerReport(entries, outputTopic, [...new Set(expected)]);
  const sample = Number(opts.sample);
  const summary = {
    outputTopic,
    deadLetterTopic: dlqTopic,
    expected: report.expected,
    outputs: report.outputs,
    deadLetters: report.deadLetters,
    missing: report.missing.length,
    duplicated: report.duplicated.length,
    inBoth: report.inBoth.length,
    examples: { missing: report.missing.slice(0, sample), duplicated: report.duplicated.slice(0, sample), inBoth: report.inBoth.slice(0, sample) },
  };
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  process.stdout.write(text);
  if (opts.report !== undefined) await writeFile(opts.report, text);
  const ok = report.missing.length === 0 && report.inBoth.length === 0 && (opts.exactlyOnce !== true || report.duplicated.length === 0);
  return ok ? 0 : 1;
}
