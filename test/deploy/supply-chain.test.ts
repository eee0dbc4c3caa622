import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { licenceProblems } from '../../scripts/supply-chain/sbom.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('supply chain', () => {
  it('sbom.cdx.json lists the production dependencies as installed, each under an allowed licence', () => {
    const check = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/supply-chain/sbom.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });

  it('the licence check names a package whose licence is not allowed, and one that declares none', () => {
    const bom = JSON.parse(readFileSync(`${ROOT}sbom.cdx.json`, 'utf8')) as { components: unknown[] };
    const problems = licenceProblems({
      components: [...bom.components, { name: 'copyleft', version: '1.0.0', licenses: [{ license: { id: 'GPL-3.0-only' } }] }, { name: 'silent', version: '2.0.0' }],
    });
    expect(problems).toEqual(['copyleft@1.0.0: GPL-3.0-only is not in the allowlist', 'silent@2.0.0: declares no licence (read its LICENSE and add a reviewed exception)']);
  });
});
