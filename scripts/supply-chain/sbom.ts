// The software bill of materials of the production dependencies (CycloneDX, from `npm sbom`, which reads the lockfile
// and node_modules: no advisories endpoint needed) and the licence check against licences.json.
//   npx tsx scripts/supply-chain/sbom.ts            writes sbom.cdx.json
//   npx tsx scripts/supply-chain/sbom.ts --check    fails when sbom.cdx.json is stale or a licence is not allowed
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const ROOT = new URL('../../', import.meta.url).pathname;
const SBOM = `${ROOT}sbom.cdx.json`;

interface Component {
  readonly name: string;
  readonly version: string;
  readonly licenses?: ReadonlyArray<{ readonly license?: { readonly id?: string; readonly name?: string }; readonly expression?: string }>;
}

/** `npm sbom` without what changes on every run (serial number, timestamp, npm's own version). */
export function generateSbom(): Record<string, unknown> {
  const text = execFileSync('npm', ['sbom', '--omit', 'dev', '--sbom-format', 'cyclonedx', '--sbom-type', 'application'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] });
  const bom = JSON.parse(text) as Record<string, unknown> & { metadata: Record<string, unknown> & { component?: Record<string, unknown> } };
  delete bom.serialNumber;
  delete bom.metadata.timestamp;
  delete bom.metadata.tools;
  // npm names the root component after the checkout's folder.
  if (bom.metadata.component !== undefined) bom.metadata.component.name = 'opportunity-scorer';
  return bom;
}

/** Every production dependency whose licence is neither allowed nor a reviewed exception. */
export function licenceProblems(bom: Record<string, unknown>): string[] {
  const policy = JSON.parse(readFileSync(`${ROOT}scripts/supply-chain/licences.json`, 'utf8')) as { allowed: string[]; exceptions: Record<string, string> };
  const allowed = new Set(policy.allowed);
  const problems: string[] = [];
  for (const c of (bom.components ?? []) as Component[]) {
    const ref = `${c.name}@${c.version}`;
    const declared = (c.licenses ?? []).map((l) => l.license?.id ?? l.license?.name ?? l.expression ?? '').filter((l) => l !== '');
    if (declared.length === 0) {
      if (policy.exceptions[ref] === undefined) problems.push(`${ref}: declares no licence (read its LICENSE and add a reviewed exception)`);
      continue;
    }
    for (const licence of declared) {
      const terms = licence.replace(/[()]/g, '').split(/\s+OR\s+/);
      if (!terms.some((t) => allowed.has(t.trim()))) problems.push(`${ref}: ${licence} is not in the allowlist`);
    }
  }
  return problems;
}

const stable = (bom: unknown): string => `${JSON.stringify(bom, null, 2)}\n`;

/** What a stale SBOM would get wrong: the components, their versions and licences (not npm's formatting of them). */
export function inventory(bom: Record<string, unknown>): string[] {
  return ((bom.components ?? []) as Component[]).map((c) => `${c.name}@${c.version} ${JSON.stringify(c.licenses ?? [])}`).sort();
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const bom = generateSbom();
  const problems = licenceProblems(bom);
  if (process.argv.includes('--check')) {
    const committed = inventory(JSON.parse(readFileSync(SBOM, 'utf8')) as Record<string, unknown>);
    const now = inventory(bom);
    const added = now.filter((c) => !committed.includes(c));
    const removed = committed.filter((c) => !now.includes(c));
    if (added.length + removed.length > 0) problems.push(`sbom.cdx.json is stale (run \`npx tsx scripts/supply-chain/sbom.ts\`): new ${added.join(', ') || 'none'}; gone ${removed.join(', ') || 'none'}`);
  } else {
    writeFileSync(SBOM, stable(bom));
    process.stdout.write(`sbom.cdx.json: ${String(((bom.components ?? []) as unknown[]).length)} production components\n`);
  }
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.exit(problems.length === 0 ? 0 : 1);
}
