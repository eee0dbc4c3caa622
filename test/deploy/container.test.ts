import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { referenceRequest } from '../fixtures/reference-request.js';
import { run, tool } from '../helpers/tools.js';
import { spawnCli } from '../helpers/worker.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  read_only?: boolean;
  volumes?: string[];
  profiles?: string[];
}

describe('docker-compose.yml', () => {
  it('is valid for `docker-compose config`, with and without the registry profile', () => {
    const compose = tool('docker-compose', 'DOCKER_COMPOSE_BIN');
    for (const profile of [[], ['--profile', 'registry'], ['--profile', 'mlflow']]) {
      const r = run(compose, [...profile, 'config', '-q'], { cwd: ROOT });
      expect(r.output).toBe('');
      expect(r.status).toBe(0);
    }
    const services = run(compose, ['--profile', 'registry', '--profile', 'mlflow', 'config', '--services'], { cwd: ROOT }).output.trim().split('\n').sort();
    expect(services).toEqual(['grafana', 'kafka', 'mlflow', 'monitor', 'outcomes', 'producer', 'prometheus', 'retrain', 'schema-registry', 'scorer', 'scorer-avro', 'scorer-mlflow', 'topics']);
  });

  it('runs the scorer image read-only and mounts the rules and dashboard the other tests check', () => {
    const { services } = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
    for (const name of ['topics', 'scorer', 'producer', 'scorer-avro', 'monitor', 'outcomes', 'scorer-mlflow']) {
      expect(services[name]?.image, name).toBe('opportunity-scorer:local');
      expect(services[name]?.read_only, name).toBe(true);
    }
    // Bind mounts (named volumes aside), with ${VAR:-default} read as its default.
    const mounts = Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => (/^(\$\{[^}]*\}|[^:]*)/.exec(v)?.[1] ?? '').replace(/^\$\{\w+:-(.*)\}$/, '$1'))
      .filter((source) => source.startsWith('.') || source.startsWith('/'));
    for (const source of mounts) expect(existsSync(join(ROOT, source)), source).toBe(true);
    expect(services.retrain?.read_only).toBe(true);
    expect(mounts).toEqual(expect.arrayContaining(['./deploy/prometheus/alerts.yml', './deploy/prometheus/prometheus.yml', './deploy/grafana/opportunity-scorer.json']));
  });
});

describe('the MLflow server and retraining images', () => {
  it('run as a non-root user, copy only files that exist, and pin the MLflow the tests run', () => {
    for (const file of ['deploy/mlflow/Dockerfile', 'training/Dockerfile']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const last = text.slice(text.lastIndexOf('FROM '));
      expect(last, file).toMatch(/^USER (mlflow|trainer)$/m);
      for (const [, source] of text.matchAll(/^COPY (?!--from)(\S+)/gm)) expect(existsSync(join(ROOT, source ?? '')), `${file}: ${source}`).toBe(true);
    }
    expect(readFileSync(join(ROOT, 'deploy/mlflow/Dockerfile'), 'utf8')).toContain('scripts/mlflow/requirements.txt');
    expect(readFileSync(join(ROOT, 'training/Dockerfile'), 'utf8')).toMatch(/ENTRYPOINT \["bash", "training\/train\.sh"/);
  });
});

describe('Dockerfile', () => {
  it('builds in two stages on Node 22 slim and runs as a non-root user with a health check', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22\.[\d.]+-bookworm-slim$/m);
    expect(dockerfile).toContain('npm prune --omit=dev');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n\s+CMD \["node", "-e", ".*\/health/m);
    for (const [, source] of runtime.matchAll(/^COPY (?!--from)(\S+)/gm)) expect(existsSync(join(ROOT, source ?? '')), source).toBe(true);
  });

  it("runtime stage: production dependencies only, a read-only tree and an unprivileged user serve /predict", async () => {
    // The runtime stage without a Docker engine: the same files, `npm ci --omit=dev`, owned by root and not
    // writable, run as `nobody` (when this test runs as root; otherwise as the current, unprivileged user).
    const app = mkdtempSync(join(tmpdir(), 'runtime-'));
    onTestFinished(() => {
      chmodRecursive(app, 0o755);
      rmSync(app, { recursive: true, force: true });
    });
    for (const f of ['package.json', 'package-lock.json', '.npmrc', 'bin', 'schemas', 'models']) cpSync(join(ROOT, f), join(app, f), { recursive: true });
    const install = run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app });
    expect(install.status, install.output).toBe(0);
    const build = run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: ROOT });
    expect(build.status, build.output).toBe(0);
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    chmodRecursive(app, 0o555);

    // With a V8 flag on node's command line (a capped heap, as an operator may set) and the models on their own
    // thread: the thread inherits the flag instead of being handed it, which Worker refuses.
    const runtime = await spawnCli(['serve'], { NODE_ENV: 'production', LOG_LEVEL: 'warn', HOME: '/nonexistent', INFERENCE_THREAD: 'true' }, {
      entry: [process.execPath, '--max-old-space-size=256', 'bin/opportunity-scorer.js'],
      cwd: app,
      ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
    });
    await runtime.waitReady(30_000);
    if (process.getuid?.() === 0) expect(readFileSync(`/proc/${runtime.proc.pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
    const base = `http://127.0.0.1:${runtime.port}`;
    const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(referenceRequest) });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('composite_score');
    // 64 rows and more run on the inference thread.
    const batch = await fetch(`${base}/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Array.from({ length: 64 }, () => referenceRequest)) });
    expect(batch.status).toBe(200);
    expect(await batch.json()).toHaveLength(64);
    runtime.signal('SIGTERM');
    expect(await runtime.exited, runtime.logs()).toBe(0);
  });
});

function chmodRecursive(path: string, mode: number): void {
  for (const entry of readdirSync(path)) {
    const full = join(path, entry);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (stat?.isDirectory() === true) chmodRecursive(full, mode);
    else if (stat !== undefined) chmodSync(full, mode & (stat.mode & 0o111 ? 0o777 : 0o666));
  }
  chmodSync(path, mode);
}
