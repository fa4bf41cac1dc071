/**
 * Raising the pipeline item's marks (`StateStore.raisePipeline`): each only upwards, in one conditional
 * update of the marks still below their values; a refused update is made again without the marks the stored
 * item already holds at or above theirs (at least one, so it ends).
 */
import type { EpochMillis } from '../types';
import { storedMark, type StateItem } from './stateItems';

/** The marks (name, value) that `item` (the pipeline item, or none) holds below their values, or not at all. */
export function marksBelow(
  item: StateItem | undefined,
  marks: readonly (readonly [name: string, value: EpochMillis])[],
): [string, EpochMillis][] {
  return marks
    .filter(([name, value]) => {
      const raised = storedMark(value);
      const current = item?.[name];
      return raised !== null && (current === undefined || !('N' in current) || Number(current.N) < raised);
    })
    .map(([name, value]) => [name, value]);
}
