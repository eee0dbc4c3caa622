import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ScorerError } from '../errors.js';

/** models/registry.json: aliases (e.g. production, staging) of each bundle's versions. */
const registryFileSchema = z.object({
  bundles: z.record(z.string(), z.object({ aliases: z.record(z.string(), z.string()) })),
});

export type RegistryFile = z.infer<typeof registryFileSchema>;

export interface ResolvedModel {
  readonly bundle: string;
  readonly version: string;
  readonly alias: string | undefined;
  readonly dir: string;
}

export function parseModelRef(ref: string): { bundle: string; tag: string | undefined } {
  const at = ref.indexOf('@');
  return at < 0 ? { bundle: ref, tag: undefined } : { bundle: ref.slice(0, at), tag: ref.slice(at + 1) };
}

export async function readRegistry(modelDir: string): Promise<RegistryFile> {
  let text: string;
  try {
    text = await readFile(join(modelDir, 'registry.json'), 'utf8');
  } catch {
    return { bundles: {} };
  }
  const parsed = registryFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new ScorerError('MODEL_LOAD_FAILED', `${join(modelDir, 'registry.json')} is invalid: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * `<bundle>@<version|alias>` → the bundle folder. A tag is first looked up as an alias in registry.json, then as a
 * version folder; no tag means the alias "production".
 */
export async function resolveModelRef(modelDir: string, ref: string): Promise<ResolvedModel> {
  const { bundle, tag } = parseModelRef(ref);
  const registry = await readRegistry(modelDir);
  const wanted = tag ?? 'production';
  const aliased = registry.bundles[bundle]?.aliases[wanted];
  const version = aliased ?? wanted;
  const dir = join(modelDir, bundle, version);
  const exists = await stat(join(dir, 'manifest.json')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new ScorerError(
      'MODEL_LOAD_FAILED',
      `model ${ref} not found: ${aliased === undefined ? `no alias "${wanted}" for ${bundle} and ` : `alias ${wanted} -> ${aliased}, but `}no ${join(dir, 'manifest.json')}`,
    );
  }
  return { bundle, version, alias: aliased === undefined ? undefined : wanted, dir };
}
