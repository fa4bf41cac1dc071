/**
 * How far a consumer is behind its shard, as Lambda's `IteratorAge` metric means it: the age of the oldest
 * record read and not yet processed. Kinesis's `MillisBehindLatest` only says how far the last GetRecords
 * page is from the tip, and the emulators always answer 0; the arrival time of the records themselves is
 * what every engine reports.
 */
export function iteratorAgeMs(
  now: number,
  oldestPendingArrival: number | undefined,
  millisBehindLatest: number,
): number {
  const pendingAge = oldestPendingArrival === undefined ? 0 : Math.max(0, now - oldestPendingArrival);
  return Math.max(pendingAge, millisBehindLatest);
}
