import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ScorerService } from '../../../src/service/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { validateOpportunity, type Opportunity } from '../../../src/contract/index.js';
import { FEATURE_COUNT, writeFeatures } from '../../../src/features/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { testClientsPython } from '../../helpers/tools.js';

const SAMPLE = fileURLToPath(new URL('../../../samples/opportunities.jsonl', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../clients/oip_client.py', import.meta.url));
const OUTPUTS = ['predicted_profit_percent', 'success_probability', 'predicted_duration_hours', 'composite_score', 'rank_score'] as const;

interface ClientRun {
  server_live: boolean;
  server_ready: boolean;
  model_ready: boolean;
  server_metadata: { name: string; extensions: string[] };
  model_metadata: { name: string; versions: string[]; inputs: Array<{ name: string; datatype: string; shape: number[] }>; outputs: Array<{ name: string }> };
  binary: Record<string, unknown> & { model_version: string; id: string; take: boolean[] };
  json: Record<string, unknown> & { model_version: string; take: boolean[] };
  wrong_count_error: string | null;
}

describe('the Open Inference Protocol v2, driven by tritonclient[http] (Triton’s own Python client)', () => {
  it('reports readiness and metadata, and infers 1,000 rows equal to /predict/batch within 1e-6', async () => {
    const python = testClientsPython();
    const config = loadConfig({ env: { LOG_LEVEL: 'silent', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' } });
    const service = await ScorerService.start({ config, logger: createLogger({ level: 'silent', pretty: false }), version: 'test', mode: 'serve' });
    onTestFinished(() => service.close());

    const opportunities = readFileSync(SAMPLE, 'utf8')
      .trim()
      .split('\n')
      .slice(0, 1000)
      .map((line) => {
        const r = validateOpportunity(JSON.parse(line));
        if (!r.ok) throw new Error('sample row does not validate');
        return r.value;
      });
    const rows = new Float32Array(opportunities.length * FEATURE_COUNT);
    opportunities.forEach((op: Opportunity, i) => writeFeatures(op, rows, i * FEATURE_COUNT));
    const dir = mkdtempSync(join(tmpdir(), 'oip-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'rows.f32'), Buffer.from(rows.buffer));

    const url = service.url.replace(/^http:\/\//, '');
    // Asynchronously: the server under test runs in this process, so a synchronous spawn would block its answers.
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(python, [CLIENT, url, 'opportunity-scorer', join(dir, 'rows.f32')], { maxBuffer: 64 << 20 }, (err, out, errOut) =>
        err === null ? resolve(out) : reject(new Error(`${err.message}\n${errOut}`)),
      );
    });
    const got = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ClientRun;
    expect([got.server_live, got.server_ready, got.model_ready]).toEqual([true, true, true]);
    expect(got.server_metadata).toMatchObject({ name: 'opportunity-scorer', extensions: ['binary_tensor_data'] });
    expect(got.model_metadata.name).toBe('opportunity-scorer');
    expect(got.model_metadata.versions).toEqual(['2.0.0']);
    expect(got.model_metadata.inputs[0]).toEqual({ name: 'input', datatype: 'FP32', shape: [-1, 57] });
    expect(got.model_metadata.outputs.map((o) => o.name)).toEqual([...OUTPUTS, 'take']);
    expect(got.wrong_count_error).toMatch(/56 features a row.*takes 57/);

    const batch = (await (
      await fetch(`${service.url}/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(opportunities.map(asRequest)) })
    ).json()) as Array<Record<string, number | boolean>>;
    expect(batch).toHaveLength(1000);
    for (const mode of ['binary', 'json'] as const) {
      const out = got[mode];
      expect(out.model_version).toBe('2.0.0');
      for (const name of OUTPUTS) {
        const values = out[name] as number[];
        expect(values).toHaveLength(1000);
        let worst = 0;
        values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (batch[i]?.[name] as number)))));
        expect(worst, `${mode} ${name}`).toBeLessThanOrEqual(1e-6);
      }
      expect(out.take).toEqual(batch.map((b) => b.take));
    }
    expect(got.binary.id).toBe('oip-test');
  });
});

/** The /predict body of a validated opportunity (timestamps back to ISO strings). */
function asRequest(op: Opportunity): Record<string, unknown> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return { ...op, longNextFundingTime: iso(op.longNextFundingTime), shortNextFundingTime: iso(op.shortNextFundingTime), detectedAt: iso(op.detectedAt) };
}
