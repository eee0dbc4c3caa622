import { describe, expect, it } from 'vitest';
import { copartitionedAssignment } from '../../../src/kafka/assignment.js';
import { loadConfig } from '../../../src/config/index.js';
import { findScorerError } from '../../../src/errors.js';

describe('co-partitioned assignment', () => {
  it('gives partition i of every topic to the same member, round-robin over the sorted members', () => {
    const plan = copartitionedAssignment(['m-b', 'm-a'], new Map([['scored', 4], ['outcomes', 4]]));
    expect(Object.fromEntries([...plan].map(([m, a]) => [m, Object.fromEntries(a)]))).toEqual({
      'm-a': { outcomes: [0, 2], scored: [0, 2] },
      'm-b': { outcomes: [1, 3], scored: [1, 3] },
    });
  });

  it('leaves members without partitions when there are more members than partitions, and handles none', () => {
    const plan = copartitionedAssignment(['a', 'b', 'c'], new Map([['t', 2]]));
    expect(plan.get('c')?.size).toBe(0);
    expect(copartitionedAssignment([], new Map([['t', 2]])).size).toBe(0);
  });
});

describe('monitor configuration', () => {
  it('defaults the monitor topics and windows, and refuses topics shared with the scorer', () => {
    const m = loadConfig({ env: {} }).monitor;
    expect(m).toMatchObject({ outcomesTopic: 'opportunities.outcomes', evaluatedTopic: 'opportunities.evaluated', outcomeWindowMs: 8 * 86_400_000, windowCount: 50_000 });
    const err = (() => {
      try {
        loadConfig({ env: { EVALUATED_TOPIC: 'opportunities.scored' } });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(findScorerError(err)?.code).toBe('CONFIG_INVALID');
    expect(String((err as Error).message)).toContain('EVALUATED_TOPIC');
  });
});
