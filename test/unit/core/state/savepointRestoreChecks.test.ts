/**
 * A savepoint is read as hostile: besides its format, checksum and positions, restore checks that it is one
 * consistent cut of the table, refusing in one line before any write a savepoint that lacks a segment a
 * pending window needs (the window would be emitted without those records) or holds an item twice (the
 * restore would stop half-written).
 */
import { count } from '../../../../functions/core/dsl';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import {
  InMemoryStateStore,
  type InMemoryStateTables,
} from '../../../../functions/core/state/InMemoryStateStore';
import { progressPartitionKey, segmentPartitionKey } from '../../../../functions/core/state/keys';
import {
  cutItems,
  restoreRefusal,
  savedSnapshot,
  savepointManifest,
  segmentRanges,
} from '../../../../functions/core/state/savepointCut';
import {
  decodeSavepointItems,
  encodeSavepointItems,
  manifestText,
  parseManifest,
} from '../../../../functions/core/state/savepointFormat';
import { itemKey, type StateItem } from '../../../../functions/core/state/stateItems';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import type { UpgradeTarget } from '../../../../functions/core/state/upgradeCheck';
import { processor, records, views } from '../../../helpers/stateShapeContract';

const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1);
const STREAM = { name: 'views', createdAt: T0 - 3_600_000 };
const target = (p: StatefulPipeline): UpgradeTarget => p as unknown as UpgradeTarget;

function partition(tables: InMemoryStateTables, pk: string): StateItem[] {
  return [...(tables.partitions.get(pk)?.values() ?? [])]
    .map((item) => structuredClone(item))
    .sort((a, b) => (itemKey(a).sk < itemKey(b).sk ? -1 : 1));
}
function readCut(tables: InMemoryStateTables, name: string): StateItem[] {
  const progress = partition(tables, progressPartitionKey(name));
  const segments = new Map(
    segmentRanges(progress).map(({ shard }) => [
      shard.shardId,
      partition(tables, segmentPartitionKey(name, shard.shardId)),
    ]),
  );
  return cutItems(progress, segments);
}
/** Items written as `shardflow savepoint` writes them (file + its own manifest), read back as restore reads them. */
function savepointOf(def: StatefulPipeline, items: StateItem[]) {
  const file = encodeSavepointItems(items);
  const manifest = parseManifest(
    manifestText(
      savepointManifest({
        definition: target(def),
        stream: STREAM,
        takenAt: T0,
        items,
        file: { bytes: file.body.byteLength, sha256: file.sha256 },
      }),
    ),
  );
  return { manifest, items: decodeSavepointItems(file.body, manifest) };
}
/** What `restoreSavepoint` (localstack/start/savepoint.ts) checks before it writes: undefined = accepted. */
function checks(def: StatefulPipeline, saved: ReturnType<typeof savepointOf>): string | undefined {
  try {
    const snapshot = savedSnapshot(saved.manifest, saved.items);
    return restoreRefusal({
      ...saved,
      snapshot,
      existing: [],
      target: target(def),
      table: 'T',
      stream: STREAM,
    });
  } catch (error) {
    return (error as Error).message;
  }
}
/** Window T0 emitted (records 1..6, then 7..8 two minutes on: commit 2), window T0 + 2m open. */
async function midStream(def: StatefulPipeline) {
  const store = new InMemoryStateStore();
  const objects = new InMemoryObjectStore();
  const run = processor(store, objects, def);
  await run.apply(records(1, 6));
  await run.apply(records(7, 8, 2 * MINUTE));
  return { store, objects };
}

describe('restore of a savepoint that is not one consistent cut', () => {
  test('when it lacks the segment an open window needs, it is refused naming the segment', async () => {
    const def = views('gap', { n: count() });
    const { store } = await midStream(def);
    const cut = readCut(store.tables, 'gap');
    expect(checks(def, savepointOf(def, cut))).toBeUndefined();
    // Commit 2 holds records 7, 8 of the open window T0+2m; its line dropped, the manifest written to match.
    const saved = savepointOf(
      def,
      cut.filter((i) => itemKey(i).sk !== '000000000002#0000#0000'),
    );
    expect(checks(def, saved)).toBe(
      'The savepoint lacks segment 2 of shard shardId-000000000000, which a pending window needs: it is not one cut of the table',
    );
  });

  test('when it holds one item twice, it is refused before anything is written', async () => {
    const def = views('dup', { n: count() });
    const { store } = await midStream(def);
    const cut = readCut(store.tables, 'dup');
    const pipelineItem = cut.find((i) => itemKey(i).sk === '#pipeline')!;
    // A second #pipeline line: every window through T0+1h emitted.
    const forged: StateItem = { ...pipelineItem, emittedEnd: { N: String(T0 + 3_600_000) } };
    expect(checks(def, savepointOf(def, [forged, ...cut]))).toBe(
      'Savepoint item P#dup #pipeline is in it twice: it is not one cut of the table',
    );
  });
});
