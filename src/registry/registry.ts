import { randomUUID } from 'node:crypto';
import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ScorerError } from '../errors.js';
import { isMissingFile } from '../files/index.js';

/** models/registry.json: aliases (e.g. production, staging) of each bundle's versions. */
const registryFileSchema = z.object({
  bundles: z.record(z.string(), z.object({ aliases: z.record(z.string(), z.string()) })),
});

export type RegistryFile = z.infer<typeof registryFileSchema>;

export interface ResolvedModel {
  readonly ref: string;
  readonly bundle: string;
  readonly version: string;
  readonly alias: string | undefined;
  readonly dir: string;
}

export interface BundleListing {
  readonly bundle: string;
  readonly versions: readonly string[];
  readonly aliases: Readonly<Record<string, string>>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseModelRef(ref: string): { bundle: string; tag: string | undefined } {
  const at = ref.indexOf('@');
  return at < 0 ? { bundle: ref, tag: undefined } : { bundle: ref.slice(0, at), tag: ref.slice(at + 1) };
}

export async function readRegistry(modelDir: string): Promise<RegistryFile> {
  const path = join(modelDir, 'registry.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    // No registry yet is an empty one; one that exists but cannot be read is an error, never silently empty.
    if (isMissingFile(cause)) return { bundles: {} };
    throw new ScorerError('MODEL_LOAD_FAILED', `cannot read ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ScorerError('MODEL_LOAD_FAILED', `${path} is not JSON`, { cause });
  }
  const parsed = registryFileSchema.safeParse(json);
  if (!parsed.success) throw new ScorerError('MODEL_LOAD_FAILED', `${join(modelDir, 'registry.json')} is invalid: ${parsed.error.message}`);
  return parsed.data;
}

async function hasManifest(dir: string): Promise<boolean> {
  return stat(join(dir, 'manifest.json')).then(
    () => true,
    () => false,
  );
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
  if (!NAME.test(bundle) || !NAME.test(version) || !(await hasManifest(dir))) {
    throw new ScorerError(
      'MODEL_LOAD_FAILED',
      `model ${ref} not found: ${aliased === undefined ? `no alias "${wanted}" for ${bundle} and ` : `alias ${wanted} -> ${aliased}, but `}no ${join(dir, 'manifest.json')}`,
    );
  }
  return { ref, bundle, version, alias: aliased === undefined ? undefined : wanted, dir };
}

/** Every bundle folder with its versions (folders holding a manifest.json) and aliases. */
export async function listBundles(modelDir: string): Promise<BundleListing[]> {
  const registry = await readRegistry(modelDir);
  const entries = await readdir(modelDir, { withFileTypes: true }).catch(() => []);
  const out: BundleListing[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const versions: string[] = [];
    for (const v of await readdir(join(modelDir, entry.name), { withFileTypes: true })) {
      if (v.isDirectory() && (await hasManifest(join(modelDir, entry.name, v.name)))) versions.push(v.name);
    }
    out.push({ bundle: entry.name, versions: versions.sort(), aliases: registry.bundles[entry.name]?.aliases ?? {} });
  }
  return out;
}

/**
 * Points `alias` of `bundle` at `version`. Atomic on disk: the new registry file is written beside the old one and
 * renamed over it, so a reader sees the old file or the new one, never half of one.
 */
export async function promote(modelDir: string, bundle: string, version: string, alias: string): Promise<{ previous: string | undefined }> {
  if (!NAME.test(alias)) throw new ScorerError('CONFIG_INVALID', `alias ${JSON.stringify(alias)} must be letters, digits, . _ -`);
  if (!NAME.test(bundle) || !NAME.test(version) || !(await hasManifest(join(modelDir, bundle, version)))) {
    throw new ScorerError('MODEL_LOAD_FAILED', `no bundle ${bundle}@${version} in ${modelDir}`);
  }
  const registry = await readRegistry(modelDir);
  const aliases = { ...(registry.bundles[bundle]?.aliases ?? {}) };
  const previous = aliases[alias];
  aliases[alias] = version;
  const next: RegistryFile = { bundles: { ...registry.bundles, [bundle]: { aliases } } };
  const target = join(modelDir, 'registry.json');
  const temp = `${target}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`);
  await rename(temp, target);
  return { previous };
}
