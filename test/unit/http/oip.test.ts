import { describe, expect, it } from 'vitest';
import { validateOpportunity } from '../../../src/contract/index.js';
import { FEATURE_COUNT, writeFeatures } from '../../../src/features/index.js';
import { referenceRequest as reference } from '../../fixtures/reference-request.js';
import { testHttp } from '../../helpers/http.js';

const INFER = '/v2/models/opportunity-scorer/infer';

function featuresOf(body: Record<string, unknown>): number[] {
  const r = validateOpportunity(body);
  if (!r.ok) throw new Error('invalid fixture');
  const row = new Float32Array(FEATURE_COUNT);
  writeFeatures(r.value, row, 0);
  // JSON has no NaN: a missing feature travels as null.
  return Array.from(row, (v) => (Number.isNaN(v) ? (null as unknown as number) : v));
}

type Output = { name: string; datatype: string; shape: number[]; data: Array<number | boolean> };

describe('Open Inference Protocol v2 (REST)', () => {
  it('answers server and model metadata, liveness and readiness', async () => {
    const http = await testHttp();
    const app = http.app;
    expect((await app.inject({ url: '/v2' })).json()).toEqual({ name: 'opportunity-scorer', version: 'test', extensions: ['binary_tensor_data'] });
    expect((await app.inject({ url: '/v2/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/v2/health/ready' })).statusCode).toBe(200);
    const meta = (await app.inject({ url: '/v2/models/opportunity-scorer' })).json<{ versions: string[]; inputs: Array<{ name: string; shape: number[] }> }>();
    expect(meta.versions).toEqual(['2.0.0']);
    expect(meta.inputs[0]).toEqual({ name: 'input', datatype: 'FP32', shape: [-1, 57] });
    expect((await app.inject({ url: '/v2/models/opportunity-scorer/versions/2.0.0/ready' })).json()).toEqual({ name: 'opportunity-scorer', version: '2.0.0', ready: true });
    const missing = await app.inject({ url: '/v2/models/opportunity-scorer/versions/9.9.9' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ error: string }>().error).toMatch(/version 9\.9\.9 is not loaded \(loaded: opportunity-scorer 2\.0\.0\)/);
    expect((await app.inject({ url: '/v2/models/nope/ready' })).statusCode).toBe(404);
    http.setDraining(true);
    expect((await app.inject({ url: '/v2/health/ready' })).statusCode).toBe(503);
  });

  it('scores the feature tensor and the per-field tensors exactly as /predict scores the opportunity', async () => {
    const { app } = await testHttp();
    const expected = (await app.inject({ method: 'POST', url: '/predict', payload: reference })).json<Record<string, number | boolean>>();
    const byFeatures = await app.inject({
      method: 'POST',
      url: INFER,
      payload: { id: 'r1', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, FEATURE_COUNT], data: featuresOf(reference) }] },
    });
    expect(byFeatures.statusCode, byFeatures.body).toBe(200);
    const body = byFeatures.json<{ model_name: string; model_version: string; id: string; outputs: Output[] }>();
    expect(body).toMatchObject({ model_name: 'opportunity-scorer', model_version: '2.0.0', id: 'r1' });
    const value = (outputs: Output[], name: string): number | boolean | undefined => outputs.find((o) => o.name === name)?.data[0];
    for (const name of ['predicted_profit_percent', 'success_probability', 'predicted_duration_hours', 'composite_score', 'rank_score']) {
      expect(Math.abs((value(body.outputs, name) as number) - (expected[name] as number)), name).toBeLessThanOrEqual(1e-6);
    }
    expect(value(body.outputs, 'take')).toBe(expected.take);

    const fields = Object.entries(reference).map(([name, v]) =>
      typeof v === 'string' ? { name, datatype: 'BYTES', shape: [1], data: [v] } : { name, datatype: 'FP64', shape: [1], data: [v] },
    );
    const byFields = await app.inject({ method: 'POST', url: INFER, payload: { inputs: fields, outputs: [{ name: 'success_probability' }] } });
    expect(byFields.statusCode, byFields.body).toBe(200);
    const outputs = byFields.json<{ outputs: Output[] }>().outputs;
    expect(outputs.map((o) => o.name)).toEqual(['success_probability']);
    expect(Math.abs((outputs[0]?.data[0] as number) - (expected.success_probability as number))).toBeLessThanOrEqual(1e-6);
  });

  it('reads binary tensor data and answers binary outputs when asked (Inference-Header-Content-Length)', async () => {
    const { app } = await testHttp();
    const rows = Float32Array.from([...featuresOf(reference), ...featuresOf({ ...reference, volume24h: null })].map((v) => (v === null ? Number.NaN : v)));
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [2, FEATURE_COUNT], parameters: { binary_data_size: rows.byteLength } }],
        outputs: [{ name: 'success_probability', parameters: { binary_data: true } }, { name: 'take' }],
      }),
    );
    const res = await app.inject({ method: 'POST', url: INFER, headers: { 'inference-header-content-length': String(header.length) }, payload: Buffer.concat([header, Buffer.from(rows.buffer)]) });
    expect(res.statusCode, res.body).toBe(200);
    const jsonLength = Number(res.headers['inference-header-content-length']);
    const head = JSON.parse(res.rawPayload.subarray(0, jsonLength).toString()) as { outputs: Array<Output & { parameters?: { binary_data_size: number } }> };
    expect(head.outputs[0]).toMatchObject({ name: 'success_probability', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } });
    expect(head.outputs[1]).toMatchObject({ name: 'take', datatype: 'BOOL', shape: [2], data: [false, false] });
    const probabilities = new Float32Array(res.rawPayload.subarray(jsonLength).buffer.slice(res.rawPayload.byteOffset + jsonLength, res.rawPayload.byteOffset + jsonLength + 8));
    expect(probabilities.every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('reads the bare NaN that Python clients write for a missing value as null, and leaves strings alone', async () => {
    const { nanAsNull } = await import('../../../src/http/oip.js');
    expect(nanAsNull('{"data":[1,NaN,2],"id":"NaN","x":"a\\"NaN"}')).toBe('{"data":[1,null,2],"id":"NaN","x":"a\\"NaN"}');
    const { app } = await testHttp();
    const data = featuresOf(reference).map((v) => (v === null ? 'NaN' : String(v))).join(',');
    const res = await app.inject({ method: 'POST', url: INFER, payload: `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,57],"data":[${data}]}]}`, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('answers protocol errors as {"error": …} naming what is wrong, never a 5xx', async () => {
    const { app } = await testHttp();
    const cases: Array<[unknown, RegExp]> = [
      [{ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 56], data: new Array(56).fill(0) }] }, /56 features a row.*takes 57, in this order: long_rate_bp/],
      [{ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 57], data: [1, 2] }] }, /2 elements, its shape says 57/],
      [{ inputs: [{ name: 'weird', datatype: 'FP32', shape: [1], data: [1] }] }, /unknown inputs: weird/],
      [{ inputs: [{ name: 'symbol', datatype: 'BYTES', shape: [1], data: ['BTCUSDT'] }] }, /missing input tensors: longExchange/],
      [{ inputs: [{ name: 'input', datatype: 'FP16', shape: [1, 57], data: [] }] }, /datatype "FP16" is not supported/],
      [{ inputs: [] }, /non-empty array/],
      [{ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 57], data: new Array(57).fill(0) }], outputs: [{ name: 'nope' }] }, /unknown output "nope"/],
      [[1, 2], /must be a JSON object/],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({ method: 'POST', url: INFER, payload: JSON.stringify(payload) });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json<{ error: string }>().error).toMatch(message);
    }
    const fields = Object.entries({ ...reference, fundApr: 'high' }).map(([name, v]) => ({ name, datatype: 'BYTES', shape: [1], data: [String(v)] }));
    const invalid = await app.inject({ method: 'POST', url: INFER, payload: { inputs: fields } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json<{ error: string }>().error).toMatch(/row 0: /);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 57], parameters: { binary_data_size: 228 } }] }));
    const short = await app.inject({ method: 'POST', url: INFER, headers: { 'inference-header-content-length': String(header.length) }, payload: Buffer.concat([header, Buffer.alloc(10)]) });
    expect(short.statusCode).toBe(400);
    expect(short.json<{ error: string }>().error).toMatch(/exceeds the binary data sent/);
    const tooMany = await app.inject({ method: 'POST', url: INFER, payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [101, 57], data: new Array(101 * 57).fill(0) }] } });
    expect(tooMany.statusCode).toBe(413);
  });
});
