import type { Problem } from '../contract/index.js';
import { type ErrorCode, findScorerError } from '../errors.js';
import type { ScoringEngine } from '../inference/index.js';

export interface Detail {
  readonly loc: Array<string | number>;
  readonly msg: string;
  readonly type: string;
}

/** A failure with the HTTP status and `detail` list the API answers with. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: readonly Detail[],
    readonly retryAfterSeconds?: number,
  ) {
    super(detail.map((d) => d.msg).join('; '));
  }
}

export const RETRY_AFTER_SECONDS = 1;

/** What a scoring route needs to know of the service: the engine, and whether it is draining. */
export interface ServingState {
  readonly engine: () => ScoringEngine | undefined;
  readonly draining: () => boolean;
}

/** The engine to score with, or 503 + Retry-After while draining or with no model loaded. */
export function serving(state: ServingState): ScoringEngine {
  const engine = state.engine();
  if (state.draining()) throw new HttpProblem(503, [{ loc: [], msg: 'the service is draining', type: 'unavailable' }], RETRY_AFTER_SECONDS);
  if (engine === undefined) throw new HttpProblem(503, [{ loc: [], msg: 'no model is loaded', type: 'unavailable' }], RETRY_AFTER_SECONDS);
  return engine;
}

export function details(problems: readonly Problem[], prefix: Array<string | number>): Detail[] {
  return problems.map((p) => ({ loc: [...prefix, ...p.path], msg: p.message, type: p.code }));
}

const SCORER_STATUS: Partial<Record<ErrorCode, number>> = { OVERLOADED: 503, SHUTTING_DOWN: 503, DECODE_FAILED: 400 };

export function toHttpProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const scorer = findScorerError(error);
  if (scorer !== undefined) {
    const status = typeof scorer.details.status === 'number' ? scorer.details.status : (SCORER_STATUS[scorer.code] ?? 500);
    const type = typeof scorer.details.type === 'string' ? scorer.details.type : scorer.code;
    return new HttpProblem(status, [{ loc: status === 400 ? ['body'] : [], msg: scorer.message, type }], status === 503 ? RETRY_AFTER_SECONDS : undefined);
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  const status = typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 ? fastifyError.statusCode : 500;
  const type = { 413: 'body_too_large', 415: 'unsupported_media_type', 400: 'bad_request' }[status] ?? 'internal_error';
  return new HttpProblem(status, [{ loc: status < 500 ? ['body'] : [], msg: status < 500 ? (fastifyError.message ?? 'bad request') : 'internal error', type }]);
}
