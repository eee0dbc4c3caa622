import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testAdmin, testKafka } from '../../helpers/kafka.js';
import { produceJson, readLedger, sampleEvents } from '../../helpers/ledger.js';
import { startInProcess, workerTopics } from '../../helpers/service.js';
import { spawnCli } from '../../helpers/worker.js';

describe('opportunity-scorer ledger', () => {
  it('passes when every input id reached the output or the DLQ, and names what is missing when not', async () => {
    const kafka = testKafka();
    const topics = await workerTopics(await testAdmin(kafka));
    const events = sampleEvents(2_000, 'ledger');
    await produceJson(kafka, topics.input, events, { raw: [{ key: 'ledger-bad', value: '{"id":"ledger-bad","symbol":' }] });
    const service = await startInProcess(topics.env);
    await readLedger(kafka, [topics.output, topics.dlq], (es) => es.length >= events.length + 1, 60_000, 500);
    await service.close();

    const fromTopic = await spawnCli(['ledger', '--input-topic', topics.input], topics.env);
    expect(await fromTopic.exited, fromTopic.logs()).toBe(0);
    // The report is the pretty-printed JSON on stdout; a client's log line may still follow it on stderr.
    const logs = fromTopic.logs();
    const start = logs.indexOf('{\n');
    const report = JSON.parse(logs.slice(start, logs.indexOf('\n}\n', start) + 2)) as Record<string, unknown>;
    const after = logs.slice(logs.indexOf('\n}\n', start) + 3);
    if (after.trim() !== '') console.log(`[ledger] logged after the report: ${after.slice(0, 2000)}`);
    expect(report).toMatchObject({ expected: 2_001, outputs: 2_000, deadLetters: 1, missing: 0, duplicated: 0, inBoth: 0 });

    const ids = join(tmpdir(), `ledger-ids-${Date.now()}.txt`);
    writeFileSync(ids, ['ledger-0', 'ledger-1999', 'never-sent'].join('\n'));
    const fromFile = await spawnCli(['ledger', '--ids', ids, '--exactly-once'], topics.env);
    expect(await fromFile.exited).toBe(1);
    expect(fromFile.logs()).toContain('"missing": 1');
    expect(fromFile.logs()).toContain('"never-sent"');
  });
});
