import type { FastifyReply } from 'fastify';
import { validateOpportunity } from '../contract/index.js';
import { FEATURE_COUNT, FEATURE_NAMES } from '../features/index.js';
import { type EngineItem, type ModelBundle, type ScoreOutcome, ScoreRequest, type ScoringEngine } from '../inference/index.js';
import { type Detail, HttpProblem, details } from './problems.js';

/**
 * Every body the replaced servers' clients send to /predict and /predict/batch (../shared/reference), answered in
 * the shape their documents show, all through the one engine:
 * - 000, the Flask API: an opportunity (camelCase fields) -> the Flask fields plus rank_score, take;
 * - 001: `{"symbol", "features": [57 numbers], "model_version"}` -> `{"symbol", "prediction": {"direction",
 *   "confidence", "expected_return"}, "model_name", "model_version", "latency_ms"}`;
 * - 004: `{"model_name", "features": {"<feature>": [values…]}, "correlation_id"}` (named columns, N rows) ->
 *   `{"prediction": [...], "confidence": [...], "probabilities": {"class_0", "class_1"}, "correlation_id", ...}`;
 * - 002: `{"model_uri", "features": {"<feature>": value}, "return_proba"}` -> `{"prediction", "probability",
 *   "probabilities", "confidence": "high|medium|low"}`.
 * Feature bodies are checked against the bundle's feature spec (names, count, order; every mismatch named) and
 * scored without the preprocessor. In every seed shape `prediction` is the decision class: 1 = take the trade,
 * 0 = leave it; its probability is the calibrated success probability. Every answer also carries this service's own
 * fields (predicted_profit_percent, success_probability, predicted_duration_hours, composite_score, rank_score, take).
 */
export interface LoadedChoice {
  readonly bundle: ModelBundle;
  readonly alias: string | undefined;
  readonly role: 'primary' | 'canary' | 'shadow';
}

export interface PredictContext {
  readonly engine: ScoringEngine;
  readonly models: readonly LoadedChoice[];
  readonly batchMaxItems: number;
  readonly correlationHeader: string | undefined;
  readonly reply: FastifyReply;
}

/** A scored outcome (every route answers only when all its rows scored). */
export type Scored = Extract<ScoreOutcome, { ok: true }>;
type Shape = 'opportunity' | 'vector' | 'columns' | 'record';

/** A request parsed: the rows to score, the bundle they are pinned to (if the body chose one), how to answer. */
interface Parsed {
  readonly shape: Shape;
  readonly items: EngineItem[];
  readonly body: Record<string, unknown>;
}

export async function predictOne(ctx: PredictContext, body: unknown): Promise<unknown> {
  const parsed = parse(ctx, body, ['body']);
  const outcomes = await ctx.engine.tryScore(parsed.items);
  return answer(ctx, parsed, okAll(outcomes));
}

/** /predict/batch: a JSON array (000, or any mix of single bodies), 004's `{"requests": [...]}`, or 002's `{"features_list": [...]}`. */
export async function predictBatch(ctx: PredictContext, body: unknown): Promise<unknown> {
  if (isObject(body) && Array.isArray(body.features_list)) return recordBatch(ctx, body, body.features_list);
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.requests) ? body.requests : undefined;
  if (list === undefined) {
    throw new HttpProblem(422, [{ loc: ['body'], msg: 'the body must be a JSON array of requests, {"requests": [...]} or {"features_list": [...]}', type: 'wrong_type' }]);
  }
  checkSize(list.length, ctx.batchMaxItems);
  const prefix = Array.isArray(body) ? ['body'] : ['body', 'requests'];
  const parsed = everyItem(list, (item, i) => parse(ctx, item, [...prefix, i]));
  const rows = parsed.reduce((n, p) => n + p.items.length, 0);
  checkSize(rows, ctx.batchMaxItems);
  const outcomes = okAll(await ctx.engine.tryScore(parsed.flatMap((p) => p.items)));
  let at = 0;
  return parsed.map((p) => {
    const mine = outcomes.slice(at, at + p.items.length);
    at += p.items.length;
    return answer(ctx, p, mine);
  });
}

async function recordBatch(ctx: PredictContext, body: Record<string, unknown>, list: unknown[]): Promise<unknown> {
  checkSize(list.length, ctx.batchMaxItems);
  ctx.reply.serializer((payload) => JSON.stringify(payload));
  const bundle = chooseBundle(ctx.models, body);
  const items = everyItem(list, (features, i) => ScoreRequest.ofFeatures(recordRow(features, ['body', 'features_list', i]), bundle));
  const scored = okAll(await ctx.engine.tryScore(items));
  return {
    predictions: scored.map((o) => (o.verdict.take ? 1 : 0)),
    probabilities: body.return_proba === true ? scored.map((o) => ({ '0': 1 - o.scores.successProbability, '1': o.scores.successProbability })) : null,
    count: scored.length,
    model_version: version(scored[0]),
    ...columnsOf(scored),
  };
}

/** Parses every item of a batch; the 422s of all items become one 422 naming every problem, anything else is thrown. */
function everyItem<T>(list: readonly unknown[], parseItem: (item: unknown, index: number) => T): T[] {
  const problems: Detail[] = [];
  const out: T[] = [];
  list.forEach((item, i) => {
    try {
      out.push(parseItem(item, i));
    } catch (err) {
      if (!(err instanceof HttpProblem) || err.status !== 422) throw err;
      problems.push(...err.detail);
    }
  });
  if (problems.length > 0) throw new HttpProblem(422, problems);
  return out;
}

function parse(ctx: PredictContext, body: unknown, loc: Array<string | number>): Parsed {
  if (!isObject(body) || !('features' in body)) {
    const result = validateOpportunity(body);
    if (!result.ok) throw new HttpProblem(422, details(result.problems, loc));
    const bundle = isObject(body) ? chooseBundle(ctx.models, body, loc) : undefined;
    return { shape: 'opportunity', items: [bundle === undefined ? result.value : ScoreRequest.ofOpportunity(result.value, bundle)], body: isObject(body) ? body : {} };
  }
  const bundle = chooseBundle(ctx.models, body, loc) ?? ctx.engine.bundle;
  const features = body.features;
  const at = [...loc, 'features'];
  if (Array.isArray(features)) return { shape: 'vector', items: [ScoreRequest.ofFeatures(vectorRow(features, at), bundle)], body };
  if (!isObject(features)) throw new HttpProblem(422, [{ loc: at, msg: `features must be an array of ${FEATURE_COUNT} numbers or an object of named features`, type: 'wrong_type' }]);
  const values = Object.values(features);
  if (values.length > 0 && values.every((v) => Array.isArray(v))) {
    const rows = columnRows(features as Record<string, unknown[]>, at);
    checkSize(rows.length, ctx.batchMaxItems);
    return { shape: 'columns', items: rows.map((r) => ScoreRequest.ofFeatures(r, bundle)), body };
  }
  return { shape: 'record', items: [ScoreRequest.ofFeatures(recordRow(features, at), bundle)], body };
}

const orderHint = `${FEATURE_COUNT} features in this order: ${FEATURE_NAMES.join(', ')}`;

function vectorRow(values: unknown[], loc: Array<string | number>): Float32Array {
  if (values.length !== FEATURE_COUNT) throw new HttpProblem(422, [{ loc, msg: `got ${values.length} features; the bundle takes ${orderHint}`, type: 'wrong_count' }]);
  const problems: Detail[] = [];
  const row = new Float32Array(FEATURE_COUNT);
  values.forEach((v, i) => {
    const n = number(v);
    if (n === undefined) problems.push({ loc: [...loc, i], msg: `${FEATURE_NAMES[i] ?? i}: must be a finite number or null (missing)`, type: 'wrong_type' });
    else row[i] = n;
  });
  if (problems.length > 0) throw new HttpProblem(422, problems);
  return row;
}

/** Named features must be exactly the bundle's names: each one missing or unknown is named. */
function checkNames(given: readonly string[], loc: Array<string | number>): void {
  const known = new Set(FEATURE_NAMES);
  const unknown = given.filter((n) => !known.has(n));
  const have = new Set(given);
  const missing = FEATURE_NAMES.filter((n) => !have.has(n));
  const problems: Detail[] = unknown.map((n) => ({ loc: [...loc, n], msg: `unknown feature ${n}`, type: 'unknown_feature' }));
  if (missing.length > 0) problems.push({ loc, msg: `missing features: ${missing.join(', ')} (the bundle takes ${FEATURE_COUNT})`, type: 'missing' });
  if (problems.length > 0) throw new HttpProblem(422, problems);
}

function recordRow(features: unknown, loc: Array<string | number>): Float32Array {
  if (!isObject(features)) throw new HttpProblem(422, [{ loc, msg: 'an object of named features', type: 'wrong_type' }]);
  checkNames(Object.keys(features), loc);
  const problems: Detail[] = [];
  const row = new Float32Array(FEATURE_COUNT);
  FEATURE_NAMES.forEach((name, i) => {
    const n = number(features[name]);
    if (n === undefined) problems.push({ loc: [...loc, name], msg: `${name}: must be a finite number or null (missing)`, type: 'wrong_type' });
    else row[i] = n;
  });
  if (problems.length > 0) throw new HttpProblem(422, problems);
  return row;
}

function columnRows(features: Record<string, unknown[]>, loc: Array<string | number>): Float32Array[] {
  checkNames(Object.keys(features), loc);
  const lengths = new Set(FEATURE_NAMES.map((n) => features[n]?.length ?? 0));
  const rows = Math.max(...lengths);
  if (lengths.size !== 1 || rows === 0) {
    throw new HttpProblem(422, [{ loc, msg: `every feature column needs the same number of values (≥ 1); got lengths ${[...lengths].join(', ')}`, type: 'ragged' }]);
  }
  const problems: Detail[] = [];
  const out = Array.from({ length: rows }, () => new Float32Array(FEATURE_COUNT));
  FEATURE_NAMES.forEach((name, i) => {
    (features[name] ?? []).forEach((v, r) => {
      const n = number(v);
      if (n === undefined) problems.push({ loc: [...loc, name, r], msg: `${name}[${r}]: must be a finite number or null (missing)`, type: 'wrong_type' });
      else (out[r] as Float32Array)[i] = n;
    });
  });
  if (problems.length > 0) throw new HttpProblem(422, problems.slice(0, 100));
  return out;
}

/** A feature value: a finite number, or null for a missing one (NaN, XGBoost's missing value). */
function number(v: unknown): number | undefined {
  if (v === null) return Number.NaN;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * The bundle a body asks for, among those loaded (never loaded on the request path): `model_uri`
 * (`models:/<name>/<version>`, `models:/<name>@<alias>`), `model_name` (`<name>` or `<name>@<version|alias>`) or
 * `model_version` (`latest`, a version, an alias). None given: undefined, the routing decides. No match: 404
 * naming what is loaded.
 */
export function chooseBundle(models: readonly LoadedChoice[], body: Record<string, unknown>, loc: Array<string | number> = ['body']): ModelBundle | undefined {
  const primary = models.find((m) => m.role === 'primary');
  const find = (name: string | undefined, tag: string | undefined): ModelBundle | undefined => {
    const named = models.filter((m) => name === undefined || m.bundle.name === name);
    if (tag === undefined || tag === 'latest') return (named.find((m) => m.role === 'primary') ?? named[0])?.bundle;
    return named.find((m) => m.bundle.version === tag || m.alias === tag)?.bundle;
  };
  const fail = (key: string, value: unknown): never => {
    const loaded = models.map((m) => `${m.bundle.name}@${m.bundle.version} (${[m.role, m.alias].filter(Boolean).join(', ')})`).join('; ');
    throw new HttpProblem(404, [{ loc: [...loc, key], msg: `no loaded model matches ${key} ${JSON.stringify(value)}; loaded: ${loaded || 'none'}`, type: 'model_not_found' }]);
  };
  for (const key of ['model_uri', 'model_name', 'model_version'] as const) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value === '') return fail(key, value);
    let bundle: ModelBundle | undefined;
    if (key === 'model_uri') {
      const m = /^models:\/([^/@]+)(?:\/([^/]+)|@([^/]+))?$/.exec(value);
      bundle = m === null ? undefined : find(m[1], m[2] ?? m[3]);
    } else if (key === 'model_name') {
      const [name, tag] = value.split('@', 2);
      bundle = find(name, tag);
    } else {
      const [name, tag] = value.includes('@') ? value.split('@', 2) : [primary?.bundle.name, value];
      bundle = find(name, tag);
    }
    return bundle ?? fail(key, value);
  }
  return undefined;
}

function checkSize(rows: number, max: number): void {
  if (rows > max) throw new HttpProblem(413, [{ loc: ['body'], msg: `at most ${max} rows per request, got ${rows}`, type: 'too_many_items' }]);
}

/** The outcomes, or a 500 naming the first that failed: a model returning a non-finite score is a server fault. */
export function okAll(outcomes: readonly ScoreOutcome[]): Scored[] {
  const failed = outcomes.find((o) => !o.ok);
  if (failed !== undefined && !failed.ok) throw new HttpProblem(500, [{ loc: [], msg: failed.error.message, type: failed.error.code }]);
  return outcomes as Scored[];
}

function version(o: Scored | undefined): string | null {
  return o === undefined ? null : `${o.model.bundle}@${o.model.version}`;
}

function ours(o: Scored): Record<string, number | boolean> {
  return {
    predicted_profit_percent: o.scores.predictedProfitPercent,
    success_probability: o.scores.successProbability,
    predicted_duration_hours: o.scores.predictedDurationHours,
    composite_score: o.compositeScore,
    rank_score: o.verdict.rankScore,
    take: o.verdict.take,
  };
}

function columnsOf(scored: readonly Scored[]): Record<string, Array<number | boolean>> {
  const out: Record<string, Array<number | boolean>> = {};
  for (const o of scored) for (const [k, v] of Object.entries(ours(o))) (out[k] ??= []).push(v);
  return out;
}

function confidenceLevel(p: number): 'high' | 'medium' | 'low' {
  return p >= 0.8 ? 'high' : p >= 0.6 ? 'medium' : 'low';
}

function answer(ctx: PredictContext, p: Parsed, scored: Scored[]): Record<string, unknown> {
  const latency = Number(ctx.reply.elapsedTime.toFixed(3));
  const fromBody = [p.body.correlationId, p.body.correlation_id].find((v): v is string => typeof v === 'string' && v !== '');
  // The Flask API's callers send it as a header first; 004's in the body.
  const correlation = p.shape === 'opportunity' ? (ctx.correlationHeader ?? fromBody) : (fromBody ?? ctx.correlationHeader);
  const first = scored[0] as Scored;
  // Only the Flask shape has a compiled response schema; the others are serialised as they are.
  if (p.shape !== 'opportunity') ctx.reply.serializer((payload) => JSON.stringify(payload));
  switch (p.shape) {
    case 'opportunity':
      return {
        ...ours(first),
        model_version: version(first),
        latency_ms: latency,
        ...(correlation === undefined ? {} : { correlation_id: correlation }),
      };
    case 'vector':
      return {
        symbol: typeof p.body.symbol === 'string' ? p.body.symbol : null,
        prediction: { direction: first.verdict.take ? 'BUY' : 'HOLD', confidence: first.scores.successProbability, expected_return: first.scores.predictedProfitPercent / 100 },
        model_name: first.model.bundle,
        model_version: first.model.version,
        latency_ms: latency,
        ...ours(first),
      };
    case 'columns':
      return {
        prediction: scored.map((o) => (o.verdict.take ? 1 : 0)),
        confidence: scored.map((o) => Math.max(o.scores.successProbability, 1 - o.scores.successProbability)),
        probabilities: { class_0: scored.map((o) => 1 - o.scores.successProbability), class_1: scored.map((o) => o.scores.successProbability) },
        correlation_id: correlation ?? null,
        model_version: version(first),
        latency_ms: latency,
        ...columnsOf(scored),
      };
    case 'record': {
      const prob = first.scores.successProbability;
      const taken = first.verdict.take;
      return {
        prediction: taken ? 1 : 0,
        probability: prob,
        probabilities: p.body.return_proba === false ? null : { '0': 1 - prob, '1': prob },
        confidence: confidenceLevel(taken ? prob : 1 - prob),
        model_version: version(first),
        latency_ms: latency,
        ...ours(first),
      };
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
