// Regenerates the configuration table in README.md from src/config/keys.ts (between the config-table markers).
// Usage: tsx scripts/docs/config-table.ts [--write]   (without --write it prints the table)
import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigTable } from '../../src/config/index.js';

const table = renderConfigTable();
if (!process.argv.includes('--write')) {
  process.stdout.write(`${table}\n`);
} else {
  const path = new URL('../../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const pattern = /(<!-- config-table:start -->\n)[\s\S]*?(<!-- config-table:end -->)/;
  if (!pattern.test(readme)) throw new Error('README.md has no config-table markers');
  writeFileSync(path, readme.replace(pattern, (_m, start: string, end: string) => `${start}${table}\n${end}`));
  process.stdout.write('README.md configuration table updated\n');
}
