import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../src/cli/bin.ts', import.meta.url));

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the opportunity-scorer command', () => {
  it('exits non-zero on a bad config, naming each bad key, the value seen and what is allowed', () => {
    const result = run(['config', 'check'], { BATCH_MAX_DELAY_MS: '-1', LOG_LEVEL: 'loud' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('BATCH_MAX_DELAY_MS="-1": must be ≥ 0');
    expect(result.stderr).toContain('LOG_LEVEL="loud"');
    expect(result.stderr).toContain('allowed: fatal, error, warn, info, debug, trace, silent');
  });

  it('accepts a valid config and prints it with secrets redacted', () => {
    const env = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'hunter2' };
    expect(run(['config', 'check'], env).status).toBe(0);
    const printed = run(['config', 'print'], env);
    expect(printed.status).toBe(0);
    expect(printed.stdout).not.toContain('hunter2');
    expect(JSON.parse(printed.stdout)).toMatchObject({ kafka: { sasl: { username: 'svc', password: '[redacted]' } } });
  });

  it('rejects an unknown command with a usage error', () => {
    const result = run(['nope']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'nope'");
  });
});
