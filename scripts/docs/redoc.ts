// Renders the HTTP API's OpenAPI document, exactly as the service serves it at /openapi.json, into a self-contained
// ReDoc page (dist/redoc.html) that the service serves at /redoc. Run by `npm run build`; no React or other
// browser code becomes a runtime dependency. Usage: tsx scripts/docs/redoc.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { readPackageVersion } from '../../src/cli/index.js';
import { buildHttpApp } from '../../src/http/index.js';
import { createLogger } from '../../src/logging/index.js';
import { createMetrics } from '../../src/metrics/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Every route documented, the admin ones included: they exist whenever ADMIN_TOKEN is set.
const app = buildHttpApp({
  logger: createLogger({ level: 'silent', pretty: false }),
  metrics: createMetrics(new Registry(), { defaultMetrics: false }),
  version: readPackageVersion(),
  engine: () => undefined,
  models: () => [],
  readiness: () => ({ ready: false, reasons: [] }),
  draining: () => false,
  adminToken: 'documentation-only',
  reload: () => Promise.resolve({ result: 'unchanged' as const, serving: [] }),
  limits: { bodyLimitBytes: 1 << 20, jsonMaxDepth: 32, batchMaxItems: 1000, corsOrigins: undefined },
});
await app.ready();
const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
try {
  const spec = join(dir, 'openapi.json');
  writeFileSync(spec, JSON.stringify(app.swagger()));
  mkdirSync(join(root, 'dist'), { recursive: true });
  execFileSync(join(root, 'node_modules/.bin/redocly'), ['build-docs', spec, '--output', join(root, 'dist/redoc.html'), '--title', 'opportunity-scorer API'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    // Offline and quiet: no usage telemetry, no update check (the machines reach package registries only).
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
  await app.close();
}
process.stdout.write('dist/redoc.html written\n');
