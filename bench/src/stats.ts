/** Medians with min and max, over the repeats of one measurement. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** The median of each numeric field of `samples` (records of numbers, or null). */
export function medianRecord(samples: ReadonlyArray<Record<string, number> | null>): Record<string, number> | null {
  const present = samples.filter((sample): sample is Record<string, number> => sample !== null);
  if (present.length === 0) return null;
  const result: Record<string, number> = {};
  for (const key of Object.keys(present[0]!)) result[key] = spread(present.map((sample) => sample[key]!)).median;
  return result;
}
