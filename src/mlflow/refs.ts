/**
 * The model URIs MLflow defines, as the replaced servers accept them (seed 002): `models:/<name>/<version>`,
 * `models:/<name>@<alias>` and `runs:/<run_id>/<path>`.
 */
export type MlflowRef =
  | { readonly kind: 'version'; readonly uri: string; readonly name: string; readonly version: string }
  | { readonly kind: 'alias'; readonly uri: string; readonly name: string; readonly alias: string }
  | { readonly kind: 'run'; readonly uri: string; readonly runId: string; readonly path: string };

const NAME = '[A-Za-z0-9][A-Za-z0-9._ -]*';
const VERSION_REF = new RegExp(`^models:/(${NAME})/([0-9]+)$`);
const ALIAS_REF = new RegExp(`^models:/(${NAME})@([A-Za-z0-9_-]+)$`);
const RUN_REF = /^runs:\/([0-9a-f]{8,64})\/([A-Za-z0-9._/-]+)$/;

/** Whether a model ref names MLflow (rather than a bundle in MODEL_DIR). */
export const isMlflowRef = (ref: string): boolean => ref.startsWith('models:/') || ref.startsWith('runs:/');

/** The parsed ref, or undefined when it is not one of the three forms. */
export function parseMlflowRef(uri: string): MlflowRef | undefined {
  let m = VERSION_REF.exec(uri);
  if (m !== null) return { kind: 'version', uri, name: m[1] as string, version: m[2] as string };
  m = ALIAS_REF.exec(uri);
  if (m !== null) return { kind: 'alias', uri, name: m[1] as string, alias: m[2] as string };
  m = RUN_REF.exec(uri);
  if (m !== null && !(m[2] as string).split('/').includes('..')) return { kind: 'run', uri, runId: m[1] as string, path: (m[2] as string).replace(/\/+$/, '') };
  return undefined;
}

/** What the config's model-ref keys accept: a local `<bundle>@<tag>` or one of MLflow's URIs. */
export const MODEL_REF_FORMS = '<bundle>@<version|alias>, models:/<name>/<version>, models:/<name>@<alias> or runs:/<run_id>/<path>';
