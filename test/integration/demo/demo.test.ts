// The README's main job, `npm run demo -- --exit`, against the test broker: the committed sample through the scorer,
// its outcomes through the monitor, and a healthy start that logs nothing at error level (#17: transient, retried
// protocol conditions log at debug or info).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientEnv, testAdmin } from '../../helpers/kafka.js';
import { monitorTopics } from '../../helpers/monitor.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE_EVENTS = 5_000;

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function runDemo(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not exit within ${timeoutMs} ms; its output:\n${output}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The service's JSON log lines (pino, levels by label) at error level or above. */
function errorLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['level'] === 'error' || entry['level'] === 'fatal');
}

describe('npm run demo', () => {
  it('scores the 5,000-event sample, joins all 5,000 outcomes, exits 0, and logs nothing at error level', async () => {
    const t = await monitorTopics(await testAdmin());
    const env = { ...process.env, ...clientEnv(), ...t.env, ...t.monitorEnv('demo'), HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'info' };
    const run = await runDemo(['--rate', '5000', '--exit'], env, 150_000);
    const summary = `exit ${run.code}; output:\n${run.output}`;
    expect(run.code, summary).toBe(0);
    expect(run.output, summary).toContain(`done: ${SAMPLE_EVENTS} scored, 0 dead-lettered`);
    expect(run.output, summary).toContain(`outcomes: ${SAMPLE_EVENTS} published; ${SAMPLE_EVENTS} joined`);
    expect(errorLines(run.output), summary).toEqual([]);
    // A check of the check: the service's lines are there to be read.
    expect(run.output).toMatch(/^\{"level":"info"/m);
  }, 180_000);
});
