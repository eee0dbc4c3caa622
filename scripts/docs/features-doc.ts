// Regenerates docs/features.md from src/features/spec.ts. Usage: tsx scripts/docs/features-doc.ts
import { writeFileSync } from 'node:fs';
import { renderFeatureDoc } from '../../src/features/index.js';

writeFileSync(new URL('../../docs/features.md', import.meta.url), renderFeatureDoc());
process.stdout.write('docs/features.md updated\n');
