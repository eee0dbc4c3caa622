import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where scripts/deploy/tools.sh caches binaries it builds (helm). */
const CACHE_BIN = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'opportunity-scorer', 'bin');

/**
 * An ops tool (promtool, prometheus, helm, docker-compose): the environment variable, then PATH, then the
 * project's tool cache. A missing tool fails the test with the command that installs it; it never skips.
 */
export function tool(name: string, envVar: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath !== '') return onPath;
  const cached = join(CACHE_BIN, name);
  if (existsSync(cached)) return cached;
  throw new Error(`${name} not found: run \`bash scripts/deploy/tools.sh\` (installs promtool, prometheus, docker-compose and helm), or set ${envVar}`);
}

/** Runs a tool to completion; returns its exit code and combined output. */
export function run(bin: string, args: readonly string[], options: { input?: string; cwd?: string } = {}): { status: number | null; output: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', input: options.input, cwd: options.cwd, maxBuffer: 64 << 20 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The Python of the foreign test clients' virtualenv (scripts/test-clients/setup.sh); missing, the test fails saying how to make it. */
export function testClientsPython(): string {
  const venv = process.env.TEST_CLIENTS_VENV ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'opportunity-scorer', 'test-clients-venv');
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) throw new Error(`no test-clients virtualenv at ${venv}: run \`bash scripts/test-clients/setup.sh\` (installs tritonclient[http] from PyPI)`);
  return python;
}
