// The latency scenario's floor: a process that copies each input record to the output topic with the worker's
// @platformatic/kafka settings (group consumer from committed offsets, read_committed, 100 ms max wait; idempotent
// acks=all producer, Java-compatible partitioner) and does nothing else. What it adds between "produced" and
// "written" is what any worker on this client, broker and machine pays before it scores anything.
//
// Usage: node --import tsx bench/pass-through.ts <brokers> <input topic> <output topic> <group>; prints "ready" on
// stdout once it has joined, and stops on SIGTERM.
import { Consumer, FetchIsolationLevels, type Message, MessagesStreamFallbackModes, MessagesStreamModes, ProduceAcks, Producer, compatibilityPartitioner } from '@platformatic/kafka';

const [brokers, input, output, groupId] = process.argv.slice(2);
if (brokers === undefined || input === undefined || output === undefined || groupId === undefined) {
  process.stderr.write('usage: pass-through.ts <brokers> <input topic> <output topic> <group>\n');
  process.exit(2);
}
const base = { clientId: `bench-pass-through-${process.pid}`, bootstrapBrokers: brokers.split(',') };
const producer = new Producer({ ...base, idempotent: true, acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner, autocreateTopics: false });
const consumer = new Consumer({
  ...base,
  groupId,
  maxWaitTime: 100,
  maxBytes: 10 << 20,
  maxBytesPerPartition: 1 << 20,
  isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  autocommit: false,
});
const stream = await consumer.consume({ topics: [input], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST, autocommit: false });

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;
let waiting: Msg[] = [];
let sending = false;
let committing: Promise<unknown> = Promise.resolve();

// One send in flight, as the worker's send queue keeps; what arrives meanwhile leaves in the next send, so the
// batches grow with the load. Offsets are committed after the records they cover are acknowledged, without holding
// up the next send.
async function pump(): Promise<void> {
  if (sending) return;
  sending = true;
  try {
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      await producer.send({ messages: batch.map((m) => ({ topic: output as string, key: m.key, value: m.value, headers: m.headers })) });
      const last = new Map<string, Msg>();
      for (const m of batch) last.set(`${m.topic}:${m.partition}`, m);
      const offsets = [...last.values()].map((m) => ({ topic: m.topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: m.leaderEpoch }));
      committing = committing.then(() => consumer.commit({ offsets })).catch((err: unknown) => process.stderr.write(`commit failed: ${String(err)}\n`));
    }
  } finally {
    sending = false;
  }
}

stream.on('data', (m: Msg) => {
  waiting.push(m);
  if (waiting.length === 1) setImmediate(() => void pump().catch((err: unknown) => process.stderr.write(`send failed: ${String(err)}\n`)));
});
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void (async () => {
    await stream.close();
    await committing;
    await consumer.close(true);
    await producer.close();
    process.exit(0);
  })();
});
