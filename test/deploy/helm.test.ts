import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { run, tool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'helm/opportunity-scorer');
/** The Kubernetes version the manifests are rendered and validated for (kubernetes-models' schemas). */
const KUBE_VERSION = '1.31.0';

/** Every optional resource on: the widest render. */
const EVERYTHING = [
  'metrics.serviceMonitor.enabled=true',
  'metrics.prometheusRule.enabled=true',
  'metrics.dashboard.enabled=true',
  'autoscaling.keda.enabled=true',
  'networkPolicy.enabled=true',
  'secrets.ADMIN_TOKEN=s3cret',
  'secrets.KAFKA_SASL_PASSWORD=pw',
  'models.existingClaim=model-registry',
  'config.INPUT_TOPICS=opportunities\\,backfill',
  'retrain.enabled=true',
  'retrain.mlflowTrackingUri=http://mlflow:5000',
  'retrain.data.existingClaim=funding-history',
  'secrets.MLFLOW_TRACKING_TOKEN=tok',
];

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string };
  readonly spec?: Record<string, unknown>;
  readonly data?: Record<string, string>;
  readonly stringData?: Record<string, string>;
}

function helm(args: readonly string[]): { status: number | null; output: string } {
  return run(tool('helm', 'HELM_BIN'), args, { cwd: CHART });
}

function render(sets: readonly string[] = []): Manifest[] {
  const r = run(tool('helm', 'HELM_BIN'), ['template', 'scorer', '.', '--namespace', 'trading', '--kube-version', KUBE_VERSION, ...sets.flatMap((s) => ['--set', s])], { cwd: CHART });
  expect(r.status, r.output).toBe(0);
  // helm warns on stderr about the symlinked files; manifests start at the first document marker.
  const yamlText = r.output.slice(r.output.indexOf('---'));
  return parseAllDocuments(yamlText).map((d) => d.toJS() as Manifest).filter((m) => m !== null);
}

/** The kubernetes-models class for a manifest: core and apps from kubernetes-models, CRDs from their packages. */
async function modelFor(m: Manifest): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const path =
    group === 'keda.sh' ? `@kubernetes-models/keda/keda.sh/${version}/${m.kind}`
    : group === 'monitoring.coreos.com' ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${m.kind}`
    : group === '' ? `kubernetes-models/${version}/${m.kind}`
    : `kubernetes-models/${group}/${version}/${m.kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = mod[m.kind];
  if (model === undefined) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
  return model;
}

const byKind = (ms: Manifest[], kind: string): Manifest => {
  const m = ms.find((x) => x.kind === kind);
  if (m === undefined) throw new Error(`no ${kind} rendered`);
  return m;
};

describe('Helm chart', () => {
  it('passes `helm lint` with defaults and with every option on', () => {
    for (const sets of [[], EVERYTHING]) {
      const r = helm(['lint', '.', '--strict', ...sets.flatMap((s) => ['--set', s])]);
      expect(r.output).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(r.status, r.output).toBe(0);
    }
  });

  it('renders manifests that validate against the Kubernetes, KEDA and Prometheus-operator schemas', async () => {
    const renders = [render(), render(EVERYTHING), render(['autoscaling.hpa.enabled=true', 'mode=serve', 'podDisruptionBudget.enabled=false'])];
    const kinds = new Set<string>();
    for (const manifests of renders) {
      for (const m of manifests) {
        const Model = await modelFor(m);
        expect(() => new Model(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
        kinds.add(m.kind);
      }
    }
    expect([...kinds].sort()).toEqual(['ConfigMap', 'CronJob', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'PrometheusRule', 'ScaledObject', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor']);
  });

  it('runs non-root on a read-only root filesystem, probes /health and /ready, and outlasts the drain', () => {
    const deployment = byKind(render(['config.SHUTDOWN_GRACE_MS=45000']), 'Deployment') as unknown as {
      spec: { template: { spec: { terminationGracePeriodSeconds: number; securityContext: Record<string, unknown>; containers: Array<{ args: string[]; securityContext: unknown; livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } } }> } } };
    };
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container?.livenessProbe.httpGet.path).toBe('/health');
    expect(container?.readinessProbe.httpGet.path).toBe('/ready');
    expect(pod.terminationGracePeriodSeconds).toBe(60);
    expect(container?.args).toEqual(['run']);
  });

  it("sizes the worker's V8 heap as outside a container, unless told otherwise", () => {
    type Pod = { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } };
    const env = (sets: readonly string[]): Array<{ name: string; value?: string }> => (byKind(render(sets), 'Deployment') as unknown as Pod).spec.template.spec.containers[0]?.env ?? [];
    expect(env([]).filter((e) => e.name === 'NODE_OPTIONS')).toEqual([{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=16 --max-old-space-size=4096' }]);
    expect(env(['nodeOptions=--max-old-space-size=1024']).find((e) => e.name === 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=1024');
    expect(env(['nodeOptions=']).some((e) => e.name === 'NODE_OPTIONS')).toBe(false);
  });

  it('ships the promtool-tested rules and the dashboard unchanged, and scales on lag per input topic', () => {
    const manifests = render(EVERYTHING);
    const rule = byKind(manifests, 'PrometheusRule');
    expect(rule.spec?.groups).toEqual((parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: unknown }).groups);
    const dashboard = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-dashboard'));
    expect(JSON.parse(dashboard?.data?.['opportunity-scorer.json'] ?? '')).toEqual(JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/opportunity-scorer.json'), 'utf8')));
    const monitor = byKind(manifests, 'ServiceMonitor');
    expect(monitor.spec?.jobLabel).toBe('app.kubernetes.io/name');
    const scaled = byKind(manifests, 'ScaledObject') as unknown as { spec: { maxReplicaCount: number; triggers: Array<{ type: string; metadata: Record<string, string> }> } };
    expect(scaled.spec.triggers.map((t) => [t.type, t.metadata.topic, t.metadata.consumerGroup])).toEqual([
      ['kafka', 'opportunities', 'opportunity-scorer'],
      ['kafka', 'backfill', 'opportunity-scorer'],
    ]);
    expect(byKind(manifests, 'Secret').stringData).toEqual({ ADMIN_TOKEN: 's3cret', KAFKA_SASL_PASSWORD: 'pw', MLFLOW_TRACKING_TOKEN: 'tok' });
    // Under an autoscaler the Deployment leaves replicas to it.
    expect(byKind(manifests, 'Deployment').spec?.replicas).toBeUndefined();
  });

  it('runs the outcome monitor as its own Deployment of the same image, with a Service that selects only its pods', () => {
    const manifests = render(EVERYTHING);
    const deployments = manifests.filter((m) => m.kind === 'Deployment') as unknown as Array<{ metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> }; template: { spec: { containers: Array<{ image: string; args: string[]; env?: Array<{ name: string; value: string }> }> } } } }>;
    const monitor = deployments.find((d) => d.metadata.name.endsWith('-monitor'));
    const scorer = deployments.find((d) => !d.metadata.name.endsWith('-monitor'));
    expect(monitor?.spec.template.spec.containers[0]?.args).toEqual(['monitor']);
    expect(monitor?.spec.template.spec.containers[0]?.image).toBe(scorer?.spec.template.spec.containers[0]?.image);
    expect(monitor?.spec.template.spec.containers[0]?.env).toContainEqual({ name: 'MONITOR_STORE_PATH', value: '/var/lib/monitor/join.sqlite' });
    expect(monitor?.spec.selector.matchLabels['app.kubernetes.io/name']).toBe('opportunity-scorer-monitor');
    expect(scorer?.spec.selector.matchLabels['app.kubernetes.io/name']).toBe('opportunity-scorer');
    expect(render(['monitor.enabled=false']).filter((m) => m.kind === 'Deployment')).toHaveLength(1);
  });

  it('schedules retraining as a CronJob of the training image: one run at a time, data read-only, candidates gated against production', () => {
    const cron = byKind(render(EVERYTHING), 'CronJob') as unknown as {
      spec: { schedule: string; concurrencyPolicy: string; jobTemplate: { spec: { backoffLimit: number; template: { spec: { containers: Array<{ image: string; args: string[]; env: Array<{ name: string; value: string }>; envFrom: unknown[]; volumeMounts: Array<{ mountPath: string; readOnly?: boolean }> }>; volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }> } } } } };
    };
    expect(cron.spec.schedule).toBe('0 3 * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const [container] = cron.spec.jobTemplate.spec.template.spec.containers;
    expect(container?.image).toMatch(/^opportunity-scorer-training:/);
    expect(container?.args).toEqual(['--candidate', '--version', 'auto', '--against', 'models:/opportunity-scorer@production', '--promote-alias', 'staging', '--monitor-url', 'http://scorer-opportunity-scorer-monitor:8080']);
    expect(container?.env).toContainEqual({ name: 'MLFLOW_TRACKING_URI', value: 'http://mlflow:5000' });
    expect(container?.envFrom).toHaveLength(1);
    expect(container?.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data', readOnly: true });
    expect(cron.spec.jobTemplate.spec.template.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'funding-history', readOnly: true } });
    expect(render().some((m) => m.kind === 'CronJob')).toBe(false);
    const missing = helm(['template', 'scorer', '.', '--kube-version', KUBE_VERSION, '--set', 'retrain.enabled=true']);
    expect(missing.status).not.toBe(0);
    expect(missing.output).toContain('retrain.mlflowTrackingUri');
  });

  it('refuses KEDA and the HPA together, and an unknown mode', () => {
    const both = helm(['template', 'scorer', '.', '--kube-version', KUBE_VERSION, '--set', 'autoscaling.keda.enabled=true', '--set', 'autoscaling.hpa.enabled=true']);
    expect(both.status).not.toBe(0);
    expect(both.output).toContain('mutually exclusive');
    const mode = helm(['template', 'scorer', '.', '--kube-version', KUBE_VERSION, '--set', 'mode=train']);
    expect(mode.output).toContain('mode must be run or serve');
  });

  it('documents every value in values.yaml', () => {
    const lines = readFileSync(join(CHART, 'values.yaml'), 'utf8').split('\n');
    const undocumented: string[] = [];
    const parents: string[] = [];
    lines.forEach((line, i) => {
      const m = /^(\s*)([A-Za-z][\w.]*):/.exec(line);
      if (m === null) return;
      const depth = (m[1]?.length ?? 0) / 2;
      parents.length = depth;
      parents.push(m[2] ?? '');
      const isSection = /:\s*$/.test(line) && (lines[i + 1] ?? '').startsWith(`${m[1]}  `) && !/^\s*-/.test(lines[i + 1] ?? '');
      // Sections are documented through their keys; the config/secrets maps and the contexts are documented as a whole.
      if (isSection || ['config', 'podSecurityContext', 'securityContext', 'resources', 'probes'].includes(parents[0] ?? '') && depth > 0 && parents[0] !== 'probes') return;
      if (parents[0] === 'probes' && depth > 1) return;
      if ((parents[0] === 'monitor' || parents[0] === 'retrain') && parents[1] === 'resources' && depth > 1) return;
      if (parents[depth - 1] === 'labels') return; // free-form label maps: documented on `labels`
      if (!/^\s*#/.test(lines[i - 1] ?? '')) undocumented.push(parents.join('.'));
    });
    expect(undocumented).toEqual([]);
  });
});
