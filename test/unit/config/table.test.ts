import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeys, renderConfigTable } from '../../../src/config/index.js';

describe('the README configuration table', () => {
  it('is the table generated from the config schema (run `npm run docs:config` after changing a key)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const match = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(match, 'README.md needs config-table markers').not.toBeNull();
    expect(match?.[1]).toBe(renderConfigTable());
  });

  it('has one row per key with its default', () => {
    const table = renderConfigTable();
    for (const [name, def] of Object.entries(configKeys)) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      if ('default' in def) expect(row).toContain(`\`${def.default}\``);
    }
  });
});
