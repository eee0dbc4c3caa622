import { describe, expect, it } from 'vitest';
import { loadConfig, redactedConfig } from '../../../src/config/index.js';
import { MlflowClient, cardMetrics, isMlflowRef, parseMlflowRef, proxiedPath } from '../../../src/mlflow/index.js';

const configProblems = (env: Record<string, string>): string => {
  try {
    loadConfig({ env });
    return '';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

describe('MLflow model refs', () => {
  it('parses the three URI forms MLflow defines, and nothing else', () => {
    expect(parseMlflowRef('models:/opportunity-scorer/3')).toEqual({ kind: 'version', uri: 'models:/opportunity-scorer/3', name: 'opportunity-scorer', version: '3' });
    expect(parseMlflowRef('models:/opportunity-scorer@production')).toMatchObject({ kind: 'alias', name: 'opportunity-scorer', alias: 'production' });
    expect(parseMlflowRef('runs:/0123456789abcdef0123456789abcdef/bundle')).toMatchObject({ kind: 'run', runId: '0123456789abcdef0123456789abcdef', path: 'bundle' });
    for (const bad of ['models:/x', 'models:/x/latest', 'models:/@prod', 'runs:/zz/bundle', 'runs:/0123456789abcdef/../etc', 'opportunity-scorer@production']) {
      expect(parseMlflowRef(bad), bad).toBeUndefined();
    }
    expect(isMlflowRef('opportunity-scorer@2.0.0')).toBe(false);
    expect(isMlflowRef('runs:/abc/x')).toBe(true);
  });

  it('maps proxied artifact URIs to paths below the artifact root, and refuses stores the server does not proxy', () => {
    expect(proxiedPath('mlflow-artifacts:/1/abc/artifacts/bundle')).toBe('1/abc/artifacts/bundle');
    expect(proxiedPath('mlflow-artifacts://host:5000/1/abc/artifacts/bundle/')).toBe('1/abc/artifacts/bundle');
    expect(() => proxiedPath('s3://bucket/1/abc/artifacts')).toThrow(/--serve-artifacts/);
  });

  it('flattens a model card into MLflow metric names, numbers only', () => {
    expect(cardMetrics({ walkForward: { average: { success_roc_auc: 0.7, folds: [1, 2] }, note: 'x' }, rows: 10, bad: Number.NaN })).toEqual({ 'walkForward.average.success_roc_auc': 0.7, rows: 10 });
  });
});

describe('MLflow configuration', () => {
  it('takes MLflow refs in MODEL_REF, AB_SPLIT and SHADOW_MODEL once MLFLOW_TRACKING_URI is set, and redacts its secrets', () => {
    const config = loadConfig({
      env: { MODEL_REF: 'models:/scorer@production', AB_SPLIT: 'models:/scorer@staging:10', SHADOW_MODEL: 'runs:/0123456789abcdef/bundle', MLFLOW_TRACKING_URI: 'http://mlflow:5000', MLFLOW_TRACKING_TOKEN: 'sekrit-token' },
    });
    expect(config.model.abSplit).toEqual({ ref: 'models:/scorer@staging', percent: 10 });
    expect(config.mlflow).toMatchObject({ trackingUri: 'http://mlflow:5000', token: 'sekrit-token', cacheDir: '.mlflow-cache', timeoutMs: 10_000 });
    expect(JSON.stringify(redactedConfig(config))).not.toContain('sekrit-token');
    const inUri = loadConfig({ env: { MLFLOW_TRACKING_URI: 'http://me:pa55word@mlflow:5000' } });
    expect(JSON.stringify(redactedConfig(inUri))).not.toContain('pa55word');
  });

  it('sends credentials in the Authorization header only, never in the URL or a message', async () => {
    const seen: Array<{ url: string; auth: string | null }> = [];
    const server = (await import('node:http')).createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? null });
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such model' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const client = new MlflowClient({ trackingUri: `http://me:pa55word@127.0.0.1:${port}/`, timeoutMs: 2_000 });
      const err = await client.modelVersion('m', '1').then(() => undefined, (e: unknown) => e as Error & { code: string });
      expect(err?.code).toBe('MLFLOW_REQUEST_FAILED');
      expect(err?.message).toMatch(/answered GET \/api\/2.0\/mlflow\/model-versions\/get with 404: no such model/);
      expect(err?.message).not.toContain('pa55word');
      expect(seen[0]?.auth).toBe(`Basic ${Buffer.from('me:pa55word').toString('base64')}`);
      const bearer = new MlflowClient({ trackingUri: `http://127.0.0.1:${port}`, token: 'tok', timeoutMs: 2_000 });
      await bearer.modelVersion('m', '1').catch(() => undefined);
      expect(seen[1]?.auth).toBe('Bearer tok');
    } finally {
      server.close();
    }
    const down = await new MlflowClient({ trackingUri: `http://127.0.0.1:${port}`, timeoutMs: 1_000 }).modelVersion('m', '1').then(() => undefined, (e: unknown) => e as Error & { code: string; retriable: boolean });
    expect(down).toMatchObject({ code: 'MLFLOW_UNAVAILABLE', retriable: true });
  });

  it('names every key that cannot work: MLflow refs without a server, two kinds of credentials, a password without a user', () => {
    const message = configProblems({ MODEL_REF: 'models:/scorer@production', AB_SPLIT: 'runs:/0123456789abcdef/b:5', MODEL_DIR: 'models' });
    expect(message).toMatch(/MODEL_REF.*MLFLOW_TRACKING_URI must be set/);
    expect(message).toMatch(/AB_SPLIT.*MLFLOW_TRACKING_URI must be set/);
    const creds = configProblems({ MLFLOW_TRACKING_URI: 'http://m:5000', MLFLOW_TRACKING_TOKEN: 't', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' });
    expect(creds).toMatch(/MLFLOW_TRACKING_TOKEN/);
    expect(creds).not.toContain('"t"');
    expect(configProblems({ MLFLOW_TRACKING_URI: 'http://m:5000', MLFLOW_TRACKING_PASSWORD: 'p' })).toMatch(/MLFLOW_TRACKING_USERNAME/);
    expect(configProblems({ MODEL_REF: 'models:/scorer' })).toMatch(/MODEL_REF.*must look like/);
    expect(configProblems({ MLFLOW_TRACKING_URI: 'ftp://m' })).toMatch(/MLFLOW_TRACKING_URI.*http/);
  });
});
