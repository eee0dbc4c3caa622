import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSource: string;
  }
}

const KAFKA_SCRIPT = fileURLToPath(new URL('../../scripts/kafka/kafka.sh', import.meta.url));

/**
 * Finds a real Kafka broker for the integration suite, in this order:
 *   1. KAFKA_BROKERS, when set (an existing cluster);
 *   2. a Docker engine, through testcontainers' Kafka module;
 *   3. the project's own JVM broker (scripts/kafka/kafka.sh), on KAFKA_TEST_PORT (default 19092).
 * When none works the suite fails with a message naming the three ways; it never skips.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const attempts: string[] = [];

  const fromEnv = process.env.KAFKA_BROKERS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    announce(project, fromEnv, `KAFKA_BROKERS=${fromEnv}`);
    return () => Promise.resolve();
  }
  attempts.push('KAFKA_BROKERS is not set');

  const docker = await tryTestcontainers();
  if (docker.ok) {
    announce(project, docker.brokers, `testcontainers (${docker.image})`);
    return docker.stop;
  }
  attempts.push(`Docker via testcontainers: ${docker.reason}`);

  const port = process.env.KAFKA_TEST_PORT ?? '19092';
  const start = spawnSync('bash', [KAFKA_SCRIPT, 'start'], {
    env: { ...process.env, KAFKA_PORT: port },
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  process.stderr.write(start.stderr);
  if (start.status === 0) {
    const brokers = `127.0.0.1:${port}`;
    const version = /Apache Kafka (\S+) started/.exec(start.stderr)?.[1] ?? (/already running/.test(start.stderr) ? 'already running' : 'unknown');
    announce(project, brokers, `local JVM broker (scripts/kafka/kafka.sh, Apache Kafka ${version})`);
    return () => {
      if (process.env.KAFKA_KEEP_RUNNING !== '1') spawnSync('bash', [KAFKA_SCRIPT, 'stop'], { env: { ...process.env, KAFKA_PORT: port }, stdio: 'inherit' });
      return Promise.resolve();
    };
  }
  attempts.push(`local JVM broker: ${start.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${String(start.status)}`}`);

  throw new Error(
    [
      'No Kafka broker for the integration tests. Provide one of:',
      '  1. KAFKA_BROKERS=host:port of a running broker;',
      '  2. a reachable Docker engine (testcontainers starts Kafka);',
      '  3. Java 17+ and Maven, so scripts/kafka/kafka.sh can run Apache Kafka from Maven Central (npm run kafka:start).',
      'What was tried:',
      ...attempts.map((a) => `  - ${a}`),
    ].join('\n'),
  );
}

function announce(project: TestProject, brokers: string, source: string): void {
  process.stdout.write(`[integration] Kafka broker: ${brokers} via ${source}\n`);
  project.provide('kafkaBrokers', brokers);
  project.provide('kafkaSource', source);
}

type DockerResult = { ok: true; brokers: string; image: string; stop: () => Promise<void> } | { ok: false; reason: string };

async function tryTestcontainers(): Promise<DockerResult> {
  if (process.env.KAFKA_TEST_DOCKER === '0') return { ok: false, reason: 'disabled by KAFKA_TEST_DOCKER=0' };
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch (err) {
    return { ok: false, reason: `no engine reachable (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
  const image = process.env.KAFKA_TEST_IMAGE ?? 'confluentinc/cp-kafka:7.9.0';
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(image).withKraft().start();
  return {
    ok: true,
    image,
    brokers: `${container.getHost()}:${container.getMappedPort(9093)}`,
    stop: async () => {
      await container.stop();
    },
  };
}
