import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

export interface WorkerProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly logs: () => string;
  readonly exited: Promise<number | null>;
  waitReady(timeoutMs?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `opportunity-scorer run` as a child process (from source, so it is always the code under test). */
export function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  return spawnCli(['run'], env);
}

/** Any `opportunity-scorer` command as a child process, with HTTP on a free port. */
export async function spawnCli(args: readonly string[], env: Record<string, string>): Promise<WorkerProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'info', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return {
    proc,
    port,
    logs: () => output,
    exited,
    signal: (sig) => proc.kill(sig),
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null) throw new Error(`worker exited with ${proc.exitCode}:\n${output.slice(-3000)}`);
        const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`worker not ready within ${timeoutMs} ms:\n${output.slice(-3000)}`);
    },
  };
}
