// Regenerates docs/metrics.md from src/metrics/metrics.ts. Usage: tsx scripts/docs/metrics-doc.ts
import { writeFileSync } from 'node:fs';
import { renderMetricsDoc } from '../../src/metrics/index.js';

writeFileSync(new URL('../../docs/metrics.md', import.meta.url), renderMetricsDoc());
process.stdout.write('docs/metrics.md updated\n');
