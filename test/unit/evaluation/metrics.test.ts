import { describe, expect, it } from 'vitest';
import { calibrationError, meanAtTop } from '../../../src/evaluation/index.js';

describe('backtest statistics', () => {
  it('calibration error weighs |mean predicted − realised| of equal-count bins by their rows', () => {
    // 4 rows, 2 bins: {0.1, 0.2} realised 0/2 -> |0.15 − 0|; {0.6, 0.9} realised 1/2 -> |0.75 − 0.5|.
    expect(calibrationError([0.9, 0.1, 0.6, 0.2], [1, 0, 0, 0], 2)).toBeCloseTo((2 * 0.15 + 2 * 0.25) / 4, 12);
    // 5 rows in 2 bins: the first bin takes the extra row, as numpy.array_split does.
    expect(calibrationError([0.1, 0.2, 0.3, 0.4, 0.5], [0, 0, 0, 1, 1], 2)).toBeCloseTo((3 * 0.2 + 2 * 0.55) / 5, 12);
    // More bins than rows: one row a bin, so each row's own error counts.
    expect(calibrationError([0.5, 0.5], [1, 0], 10)).toBe(0.5);
    expect(calibrationError([], [], 10)).toBeNaN();
  });

  it('meanAtTop averages the values of the highest-scored share, at least one row', () => {
    expect(meanAtTop([3, 1, 2, 4], [10, 20, 30, 40], 0.5)).toBe(25);
    expect(meanAtTop([3, 1], [10, 20], 0.1)).toBe(10);
  });
});
