import { z } from 'zod';

const modelEntry = z.object({
  file: z.string().regex(/^[\w.-]+\.onnx$/, 'a file name inside the bundle folder'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: z.string().min(1),
  output: z.string().min(1),
  outputColumn: z.number().int().nonnegative().optional(),
  outputTransform: z.enum(['expm1']).optional(),
  label: z.string(),
  objective: z.string(),
  trees: z.number().int().positive(),
  baseScore: z.number(),
});

/** How the success model's probability is calibrated before it is served (training/opportunity_training/calibration.py). */
export const calibrationSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('none') }),
  z.object({ method: z.literal('platt'), a: z.number(), b: z.number() }),
  z
    .object({ method: z.literal('isotonic'), x: z.array(z.number()).min(1), y: z.array(z.number().min(0).max(1)).min(1) })
    .refine((c) => c.x.length === c.y.length, { message: 'x and y must have the same length' })
    .refine((c) => c.x.every((v, i) => i === 0 || v > (c.x[i - 1] as number)), { message: 'x must increase strictly' }),
]);

export type Calibration = z.infer<typeof calibrationSchema>;

/** The score outputs are ranked by (`rank_score`); the same names as the HTTP response fields. */
export const RANK_SCORES = ['predicted_profit_percent', 'success_probability', 'composite_score'] as const;
export type RankScoreName = (typeof RANK_SCORES)[number];

/** The `take` decision a bundle carries: take when the rank score reaches the threshold; no threshold, never take. */
export const decisionSchema = z.object({
  rankScore: z.enum(RANK_SCORES),
  threshold: z.number().nullable(),
  feeModel: z.object({
    takerFeePercentPerLegPerSide: z.number().nonnegative(),
    legs: z.number().int().positive(),
    sidesPerLeg: z.number().int().positive(),
    roundTripPercent: z.number().nonnegative(),
  }),
  minTrades: z.number().int().nonnegative(),
  minTradesPerFold: z.number().int().nonnegative(),
  objective: z.string(),
});

export type Decision = z.infer<typeof decisionSchema>;

/**
 * Bundles trained before calibration and decisions existed (1.x) serve their raw probability, rank by predicted
 * profit (what their model cards advise) and never set `take`: no threshold was ever validated for them.
 */
export const DEFAULT_DECISION: Decision = Object.freeze({
  rankScore: 'predicted_profit_percent',
  threshold: null,
  feeModel: Object.freeze({ takerFeePercentPerLegPerSide: 0.05, legs: 2, sidesPerLeg: 2, roundTripPercent: 0.2 }),
  minTrades: 0,
  minTradesPerFold: 0,
  objective: 'none: the bundle carries no decision',
});

/** manifest.json of a model bundle (written by training/opportunity_training/export.py). */
export const bundleManifestSchema = z.object({
  format: z.literal('opportunity-scorer-bundle/1'),
  bundle: z.string().min(1),
  version: z.string().min(1),
  createdAt: z.string(),
  features: z.object({
    specVersion: z.number().int(),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    count: z.number().int().positive(),
    names: z.array(z.string()),
  }),
  models: z.object({ profit: modelEntry, success: modelEntry, duration: modelEntry }),
  calibration: calibrationSchema.optional(),
  decision: decisionSchema.optional(),
  selfCheck: z.object({ file: z.string(), rows: z.number().int().nonnegative(), tolerance: z.number().positive() }),
  modelCard: z.string().optional(),
  metrics: z.string().optional(),
  training: z.record(z.string(), z.unknown()),
});

export type BundleManifest = z.infer<typeof bundleManifestSchema>;
export type ModelName = keyof BundleManifest['models'];
export const MODEL_NAMES: readonly ModelName[] = ['profit', 'success', 'duration'];

/** Rows with expected outputs: float32 little-endian arrays in base64 (self-check files and parity fixtures). */
export const rowsFileSchema = z.object({
  featureHash: z.string(),
  featureCount: z.number().int().positive(),
  rows: z.number().int().nonnegative(),
  tolerance: z.number().positive(),
  ids: z.array(z.string()),
  features: z.string(),
  // successCalibrated: the success probability as served, after the bundle's calibration (bundles 2.x).
  expected: z.object({ profit: z.string(), success: z.string(), duration: z.string(), successCalibrated: z.string().optional() }),
});

export type RowsFile = z.infer<typeof rowsFileSchema>;

export function decodeFloat32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  // Copy into a fresh, aligned buffer (a Buffer's byteOffset need not be a multiple of 4).
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
