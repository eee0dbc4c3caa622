import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSource: string;
    /** A SASL_PLAINTEXT listener (user scorer / scorer-secret, PLAIN and SCRAM), or '' when none is provided. */
    kafkaSaslBrokers: string;
    schemaRegistryUrl: string;
    /**
     * Network faults (test/faults/network.test.ts): the Toxiproxy API, and the upstream and listen addresses of the
     * proxy in front of a broker listener advertised as the proxy's address (and of the registry). '' with the
     * reason in `toxiproxyMissing` when they cannot be provided; only the tests that need them fail then.
     */
    toxiproxyUrl: string;
    toxiproxyMissing: string;
    kafkaProxyUpstream: string;
    kafkaProxyListen: string;
    registryProxyUpstream: string;
    registryProxyListen: string;
    /** A real MLflow tracking server (scripts/mlflow/mlflow.sh), or '' with the reason in `mlflowMissing`. */
    mlflowUrl: string;
    mlflowMissing: string;
  }
}

const KAFKA_SCRIPT = fileURLToPath(new URL('../../scripts/kafka/kafka.sh', import.meta.url));
const REGISTRY_SCRIPT = fileURLToPath(new URL('../../scripts/registry/registry.sh', import.meta.url));
const TOXIPROXY_SCRIPT = fileURLToPath(new URL('../../scripts/toxiproxy/toxiproxy.sh', import.meta.url));
const MLFLOW_SCRIPT = fileURLToPath(new URL('../../scripts/mlflow/mlflow.sh', import.meta.url));

type Teardown = () => Promise<void>;
const nothing: Teardown = () => Promise.resolve();

/**
 * Provides the real services the integration suite talks to, started in parallel:
 *
 * Kafka, in this order: KAFKA_BROKERS (an existing cluster) → a Docker engine through testcontainers → the
 * project's JVM broker (scripts/kafka/kafka.sh on KAFKA_TEST_PORT, default 19092).
 * Schema registry: SCHEMA_REGISTRY_URL → Apicurio Registry (scripts/registry/registry.sh on REGISTRY_TEST_PORT,
 * default 18081).
 * Toxiproxy: TOXIPROXY_URL → scripts/toxiproxy/toxiproxy.sh on TOXIPROXY_TEST_PORT (default 18474). The local broker
 * also listens on port + 3, advertised as port + 4 where the fault tests put the proxy; for another cluster,
 * KAFKA_PROXY_UPSTREAM names a listener of it advertised as KAFKA_PROXY_LISTEN.
 * MLflow: MLFLOW_TEST_URL → scripts/mlflow/mlflow.sh (PyPI mlflow in a cached venv) on MLFLOW_TEST_PORT (default 15000).
 * When a service cannot be provided the suite fails with a message naming the ways to provide it; it never skips.
 */
export default async function setup(project: TestProject): Promise<Teardown> {
  const [kafka, registry, toxiproxy, mlflow] = await Promise.allSettled([provideKafka(project), provideRegistry(project), provideToxiproxy(project), provideMlflow(project)]);
  const teardowns = [kafka, registry, toxiproxy, mlflow].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const teardownAll: Teardown = async () => {
    await Promise.all(teardowns.map((t) => t()));
  };
  const failures = [kafka, registry, toxiproxy].flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length > 0) {
    await teardownAll();
    throw new Error(failures.map((f) => f.message).join('\n\n'));
  }
  return teardownAll;
}

async function provideKafka(project: TestProject): Promise<Teardown> {
  const attempts: string[] = [];
  project.provide('kafkaSaslBrokers', process.env.KAFKA_SASL_BROKERS ?? '');
  project.provide('kafkaProxyUpstream', process.env.KAFKA_PROXY_UPSTREAM ?? '');
  project.provide('kafkaProxyListen', process.env.KAFKA_PROXY_LISTEN ?? '');
  const fromEnv = process.env.KAFKA_BROKERS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    announceKafka(project, fromEnv, `KAFKA_BROKERS=${fromEnv}`);
    return nothing;
  }
  attempts.push('KAFKA_BROKERS is not set');

  const docker = await tryTestcontainers();
  if (docker.ok) {
    announceKafka(project, docker.brokers, `testcontainers (${docker.image})`);
    return docker.stop;
  }
  attempts.push(`Docker via testcontainers: ${docker.reason}`);

  const port = process.env.KAFKA_TEST_PORT ?? '19092';
  // The local broker also listens with SASL on port + 2 (the controller has port + 1), and on port + 3 for the
  // network-fault proxy, which listens on port + 4.
  const saslPort = String(Number(port) + 2);
  const [proxied, proxy] = [String(Number(port) + 3), String(Number(port) + 4)];
  const env = { ...process.env, KAFKA_PORT: port, KAFKA_SASL_PORT: saslPort, KAFKA_PROXIED_PORT: proxied, KAFKA_PROXY_PORT: proxy };
  const start = await runScript(KAFKA_SCRIPT, ['start'], env);
  if (start.status === 0) {
    const version = /Apache Kafka (\S+) started/.exec(start.stderr)?.[1] ?? (/already running/.test(start.stderr) ? 'already running' : 'unknown');
    announceKafka(project, `127.0.0.1:${port}`, `local JVM broker (scripts/kafka/kafka.sh, Apache Kafka ${version})`);
    if (process.env.KAFKA_SASL_BROKERS === undefined) project.provide('kafkaSaslBrokers', `127.0.0.1:${saslPort}`);
    if (process.env.KAFKA_PROXY_UPSTREAM === undefined) {
      project.provide('kafkaProxyUpstream', `127.0.0.1:${proxied}`);
      project.provide('kafkaProxyListen', `127.0.0.1:${proxy}`);
    }
    return async () => {
      if (process.env.KAFKA_KEEP_RUNNING !== '1') await runScript(KAFKA_SCRIPT, ['stop'], env);
    };
  }
  attempts.push(`local JVM broker: ${lastLines(start.stderr) || `exit ${String(start.status)}`}`);
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

async function provideRegistry(project: TestProject): Promise<Teardown> {
  const fromEnv = process.env.SCHEMA_REGISTRY_URL;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    project.provide('schemaRegistryUrl', fromEnv);
    process.stdout.write(`[integration] schema registry: ${fromEnv} (SCHEMA_REGISTRY_URL)\n`);
    return nothing;
  }
  const port = process.env.REGISTRY_TEST_PORT ?? '18081';
  const env = { ...process.env, REGISTRY_PORT: port };
  const start = await runScript(REGISTRY_SCRIPT, ['start'], env);
  if (start.status !== 0) {
    throw new Error(
      [
        'No schema registry for the integration tests. Provide one of:',
        '  1. SCHEMA_REGISTRY_URL=<Confluent-compatible registry URL>;',
        '  2. Java 21+ and Maven, so scripts/registry/registry.sh can run Apicurio Registry from Maven Central.',
        `What was tried: scripts/registry/registry.sh: ${lastLines(start.stderr)}`,
      ].join('\n'),
    );
  }
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  project.provide('schemaRegistryUrl', url);
  project.provide('registryProxyUpstream', `127.0.0.1:${port}`);
  project.provide('registryProxyListen', `127.0.0.1:${Number(port) + 2}`);
  process.stdout.write(`[integration] schema registry: ${url} (${/Apicurio Registry \S+/.exec(start.stderr)?.[0] ?? 'Apicurio Registry'})\n`);
  return async () => {
    if (process.env.KAFKA_KEEP_RUNNING !== '1') await runScript(REGISTRY_SCRIPT, ['stop'], env);
  };
}

/** Toxiproxy for the network-fault tests; never fails the setup (the tests that need it fail with the reason). */
async function provideToxiproxy(project: TestProject): Promise<Teardown> {
  project.provide('toxiproxyMissing', '');
  const fromEnv = process.env.TOXIPROXY_URL;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    project.provide('toxiproxyUrl', fromEnv);
    return nothing;
  }
  const port = process.env.TOXIPROXY_TEST_PORT ?? '18474';
  const env = { ...process.env, TOXIPROXY_PORT: port };
  const start = await runScript(TOXIPROXY_SCRIPT, ['start'], env);
  if (start.status !== 0) {
    project.provide('toxiproxyUrl', '');
    project.provide('toxiproxyMissing', `scripts/toxiproxy/toxiproxy.sh start failed: ${lastLines(start.stderr)} (it builds Toxiproxy with Go from the Go module proxy; or set TOXIPROXY_URL)`);
    return nothing;
  }
  project.provide('toxiproxyUrl', `http://127.0.0.1:${port}`);
  return async () => {
    if (process.env.KAFKA_KEEP_RUNNING !== '1') await runScript(TOXIPROXY_SCRIPT, ['stop'], env);
  };
}

/** MLflow for the model-source tests; never fails the setup (the tests that need it fail with the reason). */
async function provideMlflow(project: TestProject): Promise<Teardown> {
  project.provide('mlflowMissing', '');
  const fromEnv = process.env.MLFLOW_TEST_URL;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    project.provide('mlflowUrl', fromEnv);
    return nothing;
  }
  const port = process.env.MLFLOW_TEST_PORT ?? '15000';
  const env = { ...process.env, MLFLOW_PORT: port };
  const start = await runScript(MLFLOW_SCRIPT, ['start'], env);
  if (start.status !== 0) {
    project.provide('mlflowUrl', '');
    project.provide('mlflowMissing', `scripts/mlflow/mlflow.sh start failed: ${lastLines(start.stderr)} (it installs mlflow from PyPI into a cached venv; or set MLFLOW_TEST_URL)`);
    return nothing;
  }
  project.provide('mlflowUrl', `http://127.0.0.1:${port}`);
  process.stdout.write(`[integration] MLflow: http://127.0.0.1:${port}\n`);
  return async () => {
    if (process.env.KAFKA_KEEP_RUNNING !== '1') await runScript(MLFLOW_SCRIPT, ['stop'], env);
  };
}

function announceKafka(project: TestProject, brokers: string, source: string): void {
  process.stdout.write(`[integration] Kafka broker: ${brokers} via ${source}\n`);
  project.provide('kafkaBrokers', brokers);
  project.provide('kafkaSource', source);
}

function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [script, ...args], { env, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', (err) => resolve({ status: null, stderr: err.message }));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}

type DockerResult = { ok: true; brokers: string; image: string; stop: Teardown } | { ok: false; reason: string };

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
