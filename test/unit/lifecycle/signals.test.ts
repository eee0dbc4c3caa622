import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/index.js';
import { INTERRUPTED_EXIT_CODE, ShutdownSignals } from '../../../src/lifecycle/index.js';

const logger = createLogger({ level: 'silent', pretty: false });

function setup(graceMs?: number) {
  const source = new EventEmitter();
  const exits: number[] = [];
  let hangups = 0;
  const signals = new ShutdownSignals(source, { logger, graceMs, exit: (code) => exits.push(code), onHangup: () => hangups++ });
  return { source, exits, signals, hangups: () => hangups };
}

describe('ShutdownSignals', () => {
  it('the first SIGTERM aborts the signal with its reason; a second forces exit 130', async () => {
    const { source, exits, signals } = setup();
    const begun = signals.begun;
    source.emit('SIGTERM');
    expect(signals.signal.aborted).toBe(true);
    expect(await begun).toBe('SIGTERM');
    expect(exits).toEqual([]);
    source.emit('SIGINT');
    expect(exits).toEqual([INTERRUPTED_EXIT_CODE]);
    signals.dispose();
  });

  it('a shutdown the command begins itself gets the same grace: past it, exit 1', async () => {
    const { exits, signals } = setup(20);
    signals.begin('worker failed: boom');
    expect(signals.reason).toBe('worker failed: boom');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(exits).toEqual([1]);
    signals.dispose();
  });

  it('dispose removes every handler and the grace timer', async () => {
    const { source, exits, signals } = setup(20);
    source.emit('SIGTERM');
    signals.dispose();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(exits).toEqual([]);
    expect(source.listenerCount('SIGTERM') + source.listenerCount('SIGINT') + source.listenerCount('SIGHUP')).toBe(0);
  });

  it('SIGHUP calls the reload hook and does not begin shutdown', () => {
    const { source, signals, hangups } = setup();
    source.emit('SIGHUP');
    expect(hangups()).toBe(1);
    expect(signals.signal.aborted).toBe(false);
    signals.dispose();
  });
});
