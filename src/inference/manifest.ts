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
  expected: z.object({ profit: z.string(), success: z.string(), duration: z.string() }),
});

export type RowsFile = z.infer<typeof rowsFileSchema>;

export function decodeFloat32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  // Copy into a fresh, aligned buffer (a Buffer's byteOffset need not be a multiple of 4).
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
