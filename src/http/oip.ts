import { gunzipSync, inflateSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Problem, validateOpportunity } from '../contract/index.js';
import { FEATURE_COUNT, FEATURE_NAMES } from '../features/index.js';
import { type ModelBundle, ScoreRequest } from '../inference/index.js';
import { type LoadedChoice, type Scored, okAll } from './predict.js';
import { parseJsonBody } from './json-body.js';
import { HttpProblem, type ServingState, serving, toHttpProblem } from './problems.js';

/**
 * The Open Inference Protocol v2 over REST (what Triton, KServe and Seldon speak), with the binary tensor data
 * extension, so their clients and load tools can call this service. One OIP model per bundle name; its versions are
 * the loaded versions of that bundle. Two ways to send rows: the feature tensor `input` (FP32, [N, 57], the
 * bundle's feature order) or one tensor per opportunity field (the same preprocessor as /predict then computes the
 * features). Every row goes through the one engine and micro-batcher, pinned to the version asked for (the primary
 * when none is), so a response never mixes versions.
 */
export interface OipOptions extends ServingState {
  readonly serverVersion: string;
  readonly ready: () => boolean;
  /** The loaded bundles with their roles: the same list the other routes choose from. */
  readonly models: () => readonly LoadedChoice[];
  readonly jsonMaxDepth: number;
  readonly batchMaxItems: number;
}

type Datatype = 'BOOL' | 'UINT8' | 'INT8' | 'UINT16' | 'INT16' | 'UINT32' | 'INT32' | 'UINT64' | 'INT64' | 'FP32' | 'FP64' | 'BYTES';
// A Map, not an object literal: a datatype named after an Object.prototype key ("constructor") must not match.
const NUMERIC: ReadonlyMap<string, number> = new Map([
  ['UINT8', 1],
  ['INT8', 1],
  ['UINT16', 2],
  ['INT16', 2],
  ['UINT32', 4],
  ['INT32', 4],
  ['UINT64', 8],
  ['INT64', 8],
  ['FP32', 4],
  ['FP64', 8],
]);

export const FEATURE_INPUT = 'input';

/** Opportunity fields as tensors: strings as BYTES, numbers as FP64 (FP32 and integers accepted), times as BYTES (ISO-8601) or INT64 (epoch ms). */
const FIELD_TENSORS: ReadonlyArray<{ readonly name: string; readonly datatype: Datatype; readonly optional: boolean }> = [
  { name: 'id', datatype: 'BYTES', optional: true },
  { name: 'symbol', datatype: 'BYTES', optional: false },
  { name: 'longExchange', datatype: 'BYTES', optional: false },
  { name: 'shortExchange', datatype: 'BYTES', optional: false },
  { name: 'longFundingRate', datatype: 'FP64', optional: false },
  { name: 'shortFundingRate', datatype: 'FP64', optional: false },
  { name: 'longFundingIntervalHours', datatype: 'FP64', optional: false },
  { name: 'shortFundingIntervalHours', datatype: 'FP64', optional: false },
  { name: 'longNextFundingTime', datatype: 'BYTES', optional: false },
  { name: 'shortNextFundingTime', datatype: 'BYTES', optional: false },
  { name: 'detectedAt', datatype: 'BYTES', optional: false },
  { name: 'fundProfit8h', datatype: 'FP64', optional: false },
  { name: 'fundApr', datatype: 'FP64', optional: false },
  // Nullable inputs: NaN (or an absent tensor) is null, a missing feature.
  { name: 'volume24h', datatype: 'FP64', optional: true },
  { name: 'currentPriceSpreadPercent', datatype: 'FP64', optional: true },
  { name: 'fundProfit8h24hProj', datatype: 'FP64', optional: true },
  { name: 'fundApr24hProj', datatype: 'FP64', optional: true },
  { name: 'priceSpread24hAvg', datatype: 'FP64', optional: true },
  { name: 'priceSpread3dAvg', datatype: 'FP64', optional: true },
];
const FIELD_NAMES = new Set(FIELD_TENSORS.map((f) => f.name));

const OUTPUTS = [
  { name: 'predicted_profit_percent', datatype: 'FP32' },
  { name: 'success_probability', datatype: 'FP32' },
  { name: 'predicted_duration_hours', datatype: 'FP32' },
  { name: 'composite_score', datatype: 'FP32' },
  { name: 'rank_score', datatype: 'FP32' },
  { name: 'take', datatype: 'BOOL' },
] as const;
type OutputName = (typeof OUTPUTS)[number]['name'];

interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly values: Float64Array | readonly string[] | readonly boolean[];
}

/** Registers the OIP routes on `app`: a plugin context of its own, prefixed /v2 (its body parser, errors and 404s). */
export function registerOip(app: FastifyInstance, options: OipOptions): void {
  // Binary requests come with any content type or none (tritonclient sends none): every body is read as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error, _request, reply) => {
    const problem = toHttpProblem(error);
    if (problem.retryAfterSeconds !== undefined) void reply.header('retry-after', String(problem.retryAfterSeconds));
    return reply.code(problem.status).send({ error: problem.message });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url}` }));

  const tags = ['open inference protocol v2'];
  app.get('', { schema: { tags, summary: 'Server metadata' } }, () => ({ name: 'opportunity-scorer', version: options.serverVersion, extensions: ['binary_tensor_data'] }));
  app.get('/health/live', { schema: { tags, summary: 'Server liveness' } }, () => ({ live: true }));
  app.get('/health/ready', { schema: { tags, summary: 'Server readiness (503 until a model is loaded and, with the worker, its group is joined)' } }, (_request, reply) => {
    const ready = options.ready() && !options.draining();
    if (!ready) void reply.code(503).header('retry-after', '5');
    return { ready };
  });

  type ModelParams = { name: string; version?: string };
  const metadata = (request: FastifyRequest<{ Params: ModelParams }>): Record<string, unknown> => {
    const bundle = resolve(options, request.params);
    return {
      name: bundle.name,
      versions: options.models().filter((m) => m.bundle.name === bundle.name).map((m) => m.bundle.version),
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: FEATURE_INPUT, datatype: 'FP32', shape: [-1, FEATURE_COUNT] },
        ...FIELD_TENSORS.map((f) => ({ name: f.name, datatype: f.datatype, shape: [-1] })),
      ],
      outputs: OUTPUTS.map((o) => ({ name: o.name, datatype: o.datatype, shape: [-1] })),
    };
  };
  const ready = (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Record<string, unknown> => {
    const bundle = resolve(options, request.params);
    const ok = !options.draining();
    if (!ok) void reply.code(503);
    return { name: bundle.name, version: bundle.version, ready: ok };
  };
  for (const prefix of ['/models/:name', '/models/:name/versions/:version']) {
    app.get<{ Params: ModelParams }>(prefix, { schema: { tags, summary: 'Model metadata: inputs and outputs with datatypes and shapes' } }, metadata);
    app.get<{ Params: ModelParams }>(`${prefix}/ready`, { schema: { tags, summary: 'Model readiness' } }, ready);
    app.post<{ Params: ModelParams }>(
      `${prefix}/infer`,
      { schema: { tags, summary: 'Inference: the feature tensor `input` [N, 57] or one tensor per opportunity field; JSON or binary tensor data' } },
      async (request, reply) => infer(options, request, reply),
    );
  }
}

function resolve(options: OipOptions, params: { name: string; version?: string }): ModelBundle {
  const models = options.models();
  const named = models.filter((m) => m.bundle.name === params.name);
  // Only for the 404s: never built on the way to a model that is there.
  const loaded = (): string => models.map((m) => `${m.bundle.name} ${m.bundle.version}`).join(', ') || 'none';
  if (named.length === 0) throw new HttpProblem(404, [{ loc: ['path', 'name'], msg: `no model named ${params.name} is loaded (loaded: ${loaded()})`, type: 'not_found' }]);
  const found = params.version === undefined ? (named.find((m) => m.role === 'primary') ?? named[0]) : named.find((m) => m.bundle.version === params.version);
  if (found === undefined) {
    throw new HttpProblem(404, [{ loc: ['path', 'version'], msg: `${params.name} version ${String(params.version)} is not loaded (loaded: ${loaded()})`, type: 'not_found' }]);
  }
  return found.bundle;
}

const bad = (msg: string): HttpProblem => new HttpProblem(400, [{ loc: ['body'], msg, type: 'invalid_request' }]);

async function infer(options: OipOptions, request: FastifyRequest<{ Params: { name: string; version?: string } }>, reply: FastifyReply): Promise<unknown> {
  const bundle = resolve(options, request.params);
  const engine = serving(options);
  const body = decompress(request.body, request.headers['content-encoding']);
  const headerLength = request.headers['inference-header-content-length'];
  const jsonLength = headerLength === undefined ? body.length : Number(headerLength);
  if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) throw bad(`Inference-Header-Content-Length ${String(headerLength)} does not fit a body of ${body.length} bytes`);
  const header = parseJsonBody(nanAsNull(body.subarray(0, jsonLength).toString('utf8')), options.jsonMaxDepth);
  const req = asObject(header, 'the inference request');
  const tensors = readInputs(req.inputs, body.subarray(jsonLength));
  const items = toRequests(tensors, bundle, options.batchMaxItems);
  const wanted = requestedOutputs(req);
  const scored = okAll(await engine.tryScore(items));
  const served = scored[0]?.model ?? { bundle: bundle.name, version: bundle.version };
  const id = typeof req.id === 'string' ? { id: req.id } : {};
  // Each output encoded once, in the form asked for: JSON data, or bytes after the JSON header.
  const binaries: Buffer[] = [];
  const outputs = wanted.map(({ name, binary }) => {
    const { datatype, values } = outputValues(name, scored);
    const shape = [scored.length];
    if (!binary) return { name, datatype, shape, data: Array.from(values as ArrayLike<number | boolean>) };
    const bytes = values instanceof Float32Array ? Buffer.from(values.buffer, values.byteOffset, values.byteLength) : Buffer.from(values.map((f) => (f ? 1 : 0)));
    binaries.push(bytes);
    return { name, datatype, shape, parameters: { binary_data_size: bytes.length } };
  });
  const head = { model_name: served.bundle, model_version: served.version, ...id, outputs };
  if (binaries.length === 0) return head;
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  void reply.header('content-type', 'application/octet-stream').header('inference-header-content-length', String(json.length));
  return Buffer.concat([json, ...binaries]);
}

/**
 * Python clients (tritonclient among them) write a float NaN as the bare token NaN, which strict JSON lacks; in a
 * numeric tensor it means a missing value, which this protocol's JSON form writes as null. Strings are left alone.
 */
export function nanAsNull(text: string): string {
  if (!text.includes('NaN')) return text;
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x4e && text.startsWith('NaN', i)) {
      out += `${text.slice(from, i)}null`;
      from = i + 3;
      i += 2;
    }
  }
  return out + text.slice(from);
}

function decompress(body: unknown, encoding: string | string[] | undefined): Buffer {
  const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  // A decompressed body may not exceed a generous multiple of the body limit already enforced on the wire.
  const limit = { maxOutputLength: Math.max(raw.length * 64, 1 << 20) };
  try {
    if (encoding === 'gzip') return gunzipSync(raw, limit);
    if (encoding === 'deflate') return inflateSync(raw, limit);
  } catch (cause) {
    throw bad(`the ${String(encoding)} body cannot be decompressed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (encoding !== undefined && encoding !== 'identity') throw bad(`Content-Encoding ${String(encoding)} is not supported (gzip, deflate)`);
  return raw;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function readInputs(inputs: unknown, binary: Buffer): Tensor[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad('inputs must be a non-empty array of tensors');
  let offset = 0;
  const seen = new Set<string>();
  return inputs.map((raw, i) => {
    const t = asObject(raw, `inputs[${i}]`);
    const name = t.name;
    if (typeof name !== 'string' || name === '') throw bad(`inputs[${i}].name must be a string`);
    if (seen.has(name)) throw bad(`input ${name} is given twice`);
    seen.add(name);
    const datatype = t.datatype;
    if (typeof datatype !== 'string' || (!NUMERIC.has(datatype) && datatype !== 'BOOL' && datatype !== 'BYTES')) {
      throw bad(`input ${name}: datatype ${JSON.stringify(datatype)} is not supported (BOOL, BYTES, INT8-64, UINT8-64, FP32, FP64)`);
    }
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length === 0 || shape.length > 2 || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw bad(`input ${name}: shape must be 1 or 2 non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const params = t.parameters === undefined ? {} : asObject(t.parameters, `input ${name} parameters`);
    const size = params.binary_data_size;
    let values: Tensor['values'];
    if (size !== undefined) {
      if (!Number.isInteger(size) || (size as number) < 0 || offset + (size as number) > binary.length) throw bad(`input ${name}: binary_data_size ${JSON.stringify(size)} exceeds the binary data sent`);
      values = fromBinary(name, datatype as Datatype, binary.subarray(offset, offset + (size as number)), count);
      offset += size as number;
    } else {
      values = fromJson(name, datatype as Datatype, t.data, count);
    }
    return { name, datatype: datatype as Datatype, shape: shape as number[], values };
  });
}

function fromBinary(name: string, datatype: Datatype, bytes: Buffer, count: number): Tensor['values'] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let at = 0;
    while (at + 4 <= bytes.length) {
      const len = bytes.readUInt32LE(at);
      if (at + 4 + len > bytes.length) break;
      out.push(bytes.toString('utf8', at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (out.length !== count || at !== bytes.length) throw bad(`input ${name}: the BYTES data holds ${out.length} complete elements, its shape says ${count}`);
    return out;
  }
  if (datatype === 'BOOL') {
    if (bytes.length !== count) throw bad(`input ${name}: ${bytes.length} bytes for ${count} BOOL elements`);
    return Array.from(bytes, (b) => b !== 0);
  }
  const width = NUMERIC.get(datatype) as number;
  if (bytes.length !== count * width) throw bad(`input ${name}: ${bytes.length} bytes for ${count} ${datatype} elements (${count * width} expected)`);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = readNumber(bytes, datatype, i * width);
  return out;
}

function readNumber(b: Buffer, datatype: Datatype, at: number): number {
  switch (datatype) {
    case 'UINT8':
      return b.readUInt8(at);
    case 'INT8':
      return b.readInt8(at);
    case 'UINT16':
      return b.readUInt16LE(at);
    case 'INT16':
      return b.readInt16LE(at);
    case 'UINT32':
      return b.readUInt32LE(at);
    case 'INT32':
      return b.readInt32LE(at);
    case 'UINT64':
      return Number(b.readBigUInt64LE(at));
    case 'INT64':
      return Number(b.readBigInt64LE(at));
    case 'FP32':
      return b.readFloatLE(at);
    default:
      return b.readDoubleLE(at);
  }
}

function fromJson(name: string, datatype: Datatype, data: unknown, count: number): Tensor['values'] {
  if (!Array.isArray(data)) throw bad(`input ${name}: data must be an array (or the tensor sent as binary data)`);
  const flat = (data as unknown[]).flat(2);
  if (flat.length !== count) throw bad(`input ${name}: ${flat.length} elements, its shape says ${count}`);
  if (datatype === 'BYTES') {
    if (!flat.every((v) => typeof v === 'string')) throw bad(`input ${name}: BYTES elements must be strings`);
    return flat;
  }
  if (datatype === 'BOOL') {
    if (!flat.every((v) => typeof v === 'boolean')) throw bad(`input ${name}: BOOL elements must be true or false`);
    return flat;
  }
  // JSON has no NaN: null stands for a missing value in a numeric tensor.
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    if (v === null) out[i] = Number.NaN;
    else if (typeof v === 'number') out[i] = v;
    else throw bad(`input ${name}: element ${i} is not a number`);
  }
  return out;
}

function toRequests(tensors: readonly Tensor[], bundle: ModelBundle, maxRows: number): ScoreRequest[] {
  const features = tensors.find((t) => t.name === FEATURE_INPUT);
  const unknown = tensors.filter((t) => t.name !== FEATURE_INPUT && !FIELD_NAMES.has(t.name)).map((t) => t.name);
  if (unknown.length > 0) throw bad(`unknown inputs: ${unknown.join(', ')}; send either ${FEATURE_INPUT} [N, ${FEATURE_COUNT}] or the opportunity fields ${[...FIELD_NAMES].join(', ')}`);
  if (features !== undefined) {
    if (tensors.length > 1) throw bad(`send either ${FEATURE_INPUT} or the opportunity field tensors, not both`);
    return featureRequests(features, bundle, maxRows);
  }
  return opportunityRequests(tensors, bundle, maxRows);
}

function featureRequests(t: Tensor, bundle: ModelBundle, maxRows: number): ScoreRequest[] {
  if (!(t.values instanceof Float64Array) || (t.datatype !== 'FP32' && t.datatype !== 'FP64')) throw bad(`input ${FEATURE_INPUT} must be FP32 (or FP64)`);
  const width = t.shape.length === 2 ? (t.shape[1] as number) : (t.shape[0] as number);
  const rows = t.shape.length === 2 ? (t.shape[0] as number) : 1;
  if (width !== FEATURE_COUNT) {
    throw bad(`input ${FEATURE_INPUT} has ${width} features a row; ${bundle.name}@${bundle.version} takes ${FEATURE_COUNT}, in this order: ${FEATURE_NAMES.join(', ')}`);
  }
  checkRows(rows, maxRows);
  const all = Float32Array.from(t.values);
  return Array.from({ length: rows }, (_, r) => ScoreRequest.ofFeatures(all.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT), bundle));
}

function opportunityRequests(tensors: readonly Tensor[], bundle: ModelBundle, maxRows: number): ScoreRequest[] {
  const rows = tensors[0]?.shape[0] ?? 0;
  for (const t of tensors) {
    if ((t.shape[0] ?? 0) !== rows || (t.shape.length === 2 && t.shape[1] !== 1)) throw bad(`input ${t.name}: shape ${JSON.stringify(t.shape)}; every field tensor must be [${rows}] (or [${rows}, 1])`);
  }
  checkRows(rows, maxRows);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const missing = FIELD_TENSORS.filter((f) => !f.optional && !byName.has(f.name)).map((f) => f.name);
  if (missing.length > 0) throw bad(`missing input tensors: ${missing.join(', ')}`);
  const problems: string[] = [];
  const out: ScoreRequest[] = [];
  for (let r = 0; r < rows; r++) {
    const row: Record<string, unknown> = {};
    for (const f of FIELD_TENSORS) {
      const t = byName.get(f.name);
      const v = t === undefined ? null : t.values[r];
      // NaN in a numeric tensor is a missing value; the validator decides whether the field may be missing.
      row[f.name] = typeof v === 'number' && Number.isNaN(v) ? null : v;
    }
    const result = validateOpportunity(row);
    if (result.ok) out.push(ScoreRequest.ofOpportunity(result.value, bundle));
    else problems.push(...result.problems.map((p: Problem) => `row ${r}: ${p.path.join('.')}: ${p.message}`));
  }
  if (problems.length > 0) throw bad(`invalid opportunities: ${problems.slice(0, 50).join('; ')}${problems.length > 50 ? `; and ${problems.length - 50} more` : ''}`);
  return out;
}

function checkRows(rows: number, maxRows: number): void {
  if (rows === 0) throw bad('no rows to score');
  if (rows > maxRows) throw new HttpProblem(413, [{ loc: ['body'], msg: `at most ${maxRows} rows per request, got ${rows}`, type: 'too_many_items' }]);
}

function requestedOutputs(req: Record<string, unknown>): Array<{ name: OutputName; binary: boolean }> {
  const params = req.parameters === undefined ? {} : asObject(req.parameters, 'parameters');
  const allBinary = params.binary_data_output === true;
  if (req.outputs === undefined) return OUTPUTS.map((o) => ({ name: o.name, binary: allBinary }));
  if (!Array.isArray(req.outputs)) throw bad('outputs must be an array');
  return req.outputs.map((raw, i) => {
    const o = asObject(raw, `outputs[${i}]`);
    const known = OUTPUTS.find((k) => k.name === o.name);
    if (known === undefined) throw bad(`unknown output ${JSON.stringify(o.name)}; outputs: ${OUTPUTS.map((k) => k.name).join(', ')}`);
    const p = o.parameters === undefined ? {} : asObject(o.parameters, `output ${known.name} parameters`);
    return { name: known.name, binary: typeof p.binary_data === 'boolean' ? p.binary_data : allBinary };
  });
}

function outputValues(name: OutputName, scored: readonly Scored[]): { datatype: 'FP32' | 'BOOL'; values: Float32Array | boolean[] } {
  if (name === 'take') return { datatype: 'BOOL', values: scored.map((s) => s.verdict.take) };
  const pick = (s: Scored): number =>
    name === 'predicted_profit_percent'
      ? s.scores.predictedProfitPercent
      : name === 'success_probability'
        ? s.scores.successProbability
        : name === 'predicted_duration_hours'
          ? s.scores.predictedDurationHours
          : name === 'composite_score'
            ? s.compositeScore
            : s.verdict.rankScore;
  return { datatype: 'FP32', values: Float32Array.from(scored, pick) };
}
