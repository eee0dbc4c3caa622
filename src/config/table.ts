import { type ConfigKey, configKeys } from './keys.js';

/** The README's configuration table, generated from the key definitions so the two cannot drift. */
export function renderConfigTable(): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = Object.entries(configKeys).map(([name, def]: [string, ConfigKey]) => {
    const dflt = def.default === undefined ? '(unset)' : def.default === '' ? '""' : `\`${def.default}\``;
    return `| \`${name}\` | ${dflt} | ${escape(def.allowed)} | ${escape(def.doc)} |`;
  });
  return ['| key | default | allowed | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
