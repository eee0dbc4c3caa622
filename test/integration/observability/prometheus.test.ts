import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { testAdmin, testBrokers, uniqueName } from '../../helpers/kafka.js';
import { run, tool } from '../../helpers/tools.js';
import { freePort, spawnCli, spawnLogged } from '../../helpers/worker.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface ComposeService {
  readonly command?: string[];
  readonly environment?: Record<string, string>;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

/** The repository's Prometheus config, pointed at a scorer on this machine, with the rules file by path. */
async function startPrometheus(scorerPort: number): Promise<{ url: string; logs: () => string }> {
  const bin = tool('prometheus', 'PROMETHEUS_BIN');
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const config = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  config.global.scrape_interval = '1s';
  config.global.evaluation_interval = '1s';
  config.rule_files = [join(ROOT, 'deploy/prometheus/alerts.yml')];
  const job = config.scrape_configs.find((c) => c.job_name === 'opportunity-scorer');
  if (job === undefined) throw new Error('deploy/prometheus/prometheus.yml has no opportunity-scorer job');
  job.static_configs = [{ targets: [`127.0.0.1:${scorerPort}`] }];
  config.scrape_configs = [job];
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const port = await freePort();
  // Registered before the process, so the process is stopped first (hooks run last-in, first-out).
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { logs } = spawnLogged(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`]);
  const url = `http://127.0.0.1:${port}`;
  await until('Prometheus to be ready', 30_000, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined));
  return { url, logs };
}

async function query(url: string, promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

describe('observability: the compose stack commands, scraped by a real Prometheus', () => {
  it('runs docker-compose.yml\'s topics, scorer and producer commands; Prometheus scrapes scored events, lag per partition, and loads the alert rules', async () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
    const service = (name: string): Required<ComposeService> => {
      const s = compose.services[name];
      if (s?.command === undefined || s.environment === undefined) throw new Error(`docker-compose.yml: service ${name} needs a command and an environment`);
      return { command: s.command, environment: s.environment };
    };
    const admin = await testAdmin();
    // The compose environment, on this test's own broker, topics and group.
    const names = {
      INPUT_TOPICS: uniqueName('in'),
      OUTPUT_TOPIC: uniqueName('out'),
      DLQ_TOPIC: uniqueName('dlq'),
      CONSUMER_GROUP: uniqueName('group'),
      // `topics create` makes the monitor's topics too.
      OUTCOMES_TOPIC: uniqueName('outcomes'),
      EVALUATED_TOPIC: uniqueName('evaluated'),
      OUTCOMES_DLQ_TOPIC: uniqueName('outcomes-dlq'),
    };
    onTestFinished(async () => {
      await admin.deleteTopics({ topics: [names.INPUT_TOPICS, names.OUTPUT_TOPIC, names.DLQ_TOPIC, names.OUTCOMES_TOPIC, names.EVALUATED_TOPIC, names.OUTCOMES_DLQ_TOPIC] }).catch(() => undefined);
    });
    const env = (name: string): Record<string, string> => ({ ...service(name).environment, KAFKA_BROKERS: testBrokers().join(','), LOG_LEVEL: 'warn', ...names });

    const topics = await spawnCli(service('topics').command, env('topics'));
    expect(await topics.exited, topics.logs()).toBe(0);
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([names.INPUT_TOPICS, names.OUTPUT_TOPIC, names.DLQ_TOPIC, names.OUTCOMES_TOPIC, names.EVALUATED_TOPIC, names.OUTCOMES_DLQ_TOPIC]));

    const scorer = await spawnCli(service('scorer').command, env('scorer'));
    await scorer.waitReady();
    const producer = await spawnCli(service('producer').command, env('producer'));

    const { url, logs } = await startPrometheus(scorer.port);
    const scored = await until(`Prometheus to see scored events\n${logs().slice(-2000)}`, 45_000, async () => {
      const value = Number((await query(url, 'sum(opportunity_scorer_events_scored_total{job="opportunity-scorer"})'))[0]?.value[1] ?? 0);
      return value > 0 ? value : undefined;
    });
    expect(scored).toBeGreaterThan(0);
    const up = await query(url, 'up{job="opportunity-scorer"}');
    expect(up.map((r) => r.value[1])).toEqual(['1']);
    // Lag is computed at scrape time for each partition the worker owns (compose creates 4).
    const lag = await query(url, `opportunity_scorer_consumer_lag_records{topic="${names.INPUT_TOPICS}"}`);
    expect(lag.map((r) => r.metric.partition).sort()).toEqual(['0', '1', '2', '3']);

    // Every alert rule loads and evaluates without error against the live series.
    const rules = await until('the rule group to be evaluated', 20_000, async () => {
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health === 'ok') ? all : undefined;
    });
    expect(rules.map((r) => r.name)).toContain('OpportunityScorerNoOutput');
    // The scorer's 11 and the monitor's 4 (no monitor series here: they load and stay quiet).
    expect(rules).toHaveLength(15);
    const firing = await query(url, 'ALERTS{alertstate="firing"}');
    expect(firing).toEqual([]);

    // The exposition itself passes Prometheus's linter.
    const exposition = await (await fetch(`http://127.0.0.1:${scorer.port}/metrics`)).text();
    const lint = run(tool('promtool', 'PROMTOOL_BIN'), ['check', 'metrics'], { input: exposition });
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);

    producer.signal('SIGTERM');
    expect(await producer.exited, producer.logs().slice(-2000)).toBe(0);
    scorer.signal('SIGTERM');
    expect(await scorer.exited, scorer.logs().slice(-2000)).toBe(0);
  });
});
