import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { clientEnv } from './kafka.js';

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

/** A child process whose output is collected, killed (SIGKILL) when the test finishes if it is still running. */
export interface LoggedProcess {
  readonly proc: ChildProcess;
  readonly logs: () => string;
  readonly exited: Promise<number | null>;
}

export function spawnLogged(command: string, args: readonly string[], options: SpawnOptions = {}): LoggedProcess {
  const proc = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { proc, logs: () => output, exited };
}

export interface CliOptions {
  /** How to start the CLI: from source by default; e.g. `[node, 'bin/opportunity-scorer.js']` for a built tree. */
  readonly entry?: readonly string[];
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
}

/** Any `opportunity-scorer` command as a child process, with HTTP on a free port. */
export async function spawnCli(args: readonly string[], env: Record<string, string>, options: CliOptions = {}): Promise<WorkerProcess> {
  const port = await freePort();
  const [command = process.execPath, ...entryArgs] = options.entry ?? [process.execPath, '--import', 'tsx', BIN];
  const { proc, logs, exited } = spawnLogged(command, [...entryArgs, ...args], {
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'info', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), ...clientEnv(), ...env },
  });
  const worker: WorkerProcess = {
    proc,
    port,
    logs,
    exited,
    signal: (sig) => proc.kill(sig),
    waitReady: (timeoutMs = 60_000) => waitFor('readiness', () => isReady(worker), worker, timeoutMs),
  };
  return worker;
}

/** Whether the process's /ready answers 200 now. */
export function isReady(worker: Pick<WorkerProcess, 'port'>): Promise<boolean> {
  return fetch(`http://127.0.0.1:${worker.port}/ready`).then((r) => r.ok, () => false);
}

/** Polls `check` until it holds; fails after `timeoutMs`, or as soon as the process exits, with its recent log. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, worker: Pick<WorkerProcess, 'proc' | 'logs'>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (worker.proc.exitCode !== null) throw new Error(`worker exited with ${worker.proc.exitCode} while waiting for ${what}:\n${worker.logs().slice(-3000)}`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${worker.logs().slice(-3000)}`);
}
