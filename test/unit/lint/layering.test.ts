import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The real lint config on a real file of src/, with one import added: what CI's `npm run lint` would report.
const lint = async (filePath: string, code: string): Promise<string[]> => {
  const eslint = new ESLint({ cwd: new URL('../../..', import.meta.url).pathname });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
};

describe('layering (eslint import-x/no-restricted-paths)', () => {
  it('rejects an import of the Kafka port from src/features/', async () => {
    const messages = await lint('src/features/compute.ts', "import { createKafkaPort } from '../kafka/index.js';\nexport const port = createKafkaPort;\n");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/features, codecs, the batcher, inference and the contract stay free of transports/);
  });

  it('rejects the scoring core importing the worker, and allows what points inward', async () => {
    expect(await lint('src/pipeline/core.ts', "import { KafkaWorker } from '../ingest/index.js';\nexport const w = KafkaWorker;\n")).toHaveLength(1);
    expect(await lint('src/ingest/lag.ts', "import { processRecords } from '../pipeline/index.js';\nexport const p = processRecords;\n")).toEqual([]);
  });
});
