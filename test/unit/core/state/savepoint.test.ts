import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { count, sum } from '../../../../functions/core/dsl';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { progressPartitionKey, segmentPartitionKey } from '../../../../functions/core/state/keys';
import {
  cutItems,
  restoreRefusal,
  restoreWrites,
  sameCollect,
  savedSnapshot,
  savepointManifest,
  SavepointError,
  segmentRanges,
} from '../../../../functions/core/state/savepointCut';
import {
  decodeSavepointItems,
  encodeSavepointItems,
  manifestText,
  parseManifest,
  SavepointInvalidError,
  type SavepointManifest,
} from '../../../../functions/core/state/savepointFormat';
import { itemKey, type StateItem } from '../../../../functions/core/state/stateItems';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import type { UpgradeTarget } from '../../../../functions/core/state/upgradeCheck';
import { processor, records, rows, views } from '../../../helpers/stateShapeContract';

const MINUTE = 60_000;
const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2030, 0, 1);

/** The stream the savepoints here are taken of (and restored where it is read). */
const STREAM = { name: 'views', createdAt: T0 - 3_600_000 };

const target = (p: StatefulPipeline): UpgradeTarget => p as unknown as UpgradeTarget;

function partition(tables: InMemoryStateTables, pk: string): StateItem[] {
  return [...(tables.partitions.get(pk)?.values() ?? [])]
    .map((item) => structuredClone(item))
    .sort((a, b) => (itemKey(a).sk < itemKey(b).sk ? -1 : 1));
}

/** The cut an edge reads: the progress partition, then each shard's segment range. */
function readCut(
  tables: InMemoryStateTables,
  name: string,
  progress = partition(tables, progressPartitionKey(name)),
) {
  const segments = new Map(
    segmentRanges(progress).map(({ shard }) => [
      shard.shardId,
      partition(tables, segmentPartitionKey(name, shard.shardId)),
    ]),
  );
  return cutItems(progress, segments);
}

/** A savepoint of `items` as the CLI writes it, read back as restore reads it. */
function roundTrip(def: StatefulPipeline, items: StateItem[]) {
  const file = encodeSavepointItems(items);
  const manifest = savepointManifest({
    definition: target(def),
    stream: STREAM,
    takenAt: T0,
    items,
    file: { bytes: file.body.byteLength, sha256: file.sha256 },
  });
  const read = parseManifest(manifestText(manifest));
  return { file, manifest: read, items: decodeSavepointItems(file.body, read), stream: STREAM };
}

/** The puts of a restore, with their conditions, as the DynamoDB edge makes them. */
function restoreInto(tables: InMemoryStateTables, items: readonly StateItem[], name = 'sp'): void {
  for (const { item, expectedVersion } of restoreWrites(
    items,
    partition(tables, progressPartitionKey(name)),
  )) {
    const { pk, sk } = itemKey(item);
    if (!tables.partitions.has(pk)) tables.partitions.set(pk, new Map());
    const stored = tables.partitions.get(pk)!.get(sk);
    const version = stored?.version;
    expect(expectedVersion === undefined ? stored : version && 'N' in version ? Number(version.N) : NaN).toBe(
      expectedVersion,
    );
    tables.partitions.get(pk)!.set(sk, structuredClone(item));
  }
}

/** Window T0 emitted (records 1..6, then 7..8 two minutes on), window T0 + 2m open. */
async function midStream(def: StatefulPipeline) {
  const store = new InMemoryStateStore();
  const objects = new InMemoryObjectStore();
  const run = processor(store, objects, def);
  await run.apply(records(1, 6));
  await run.apply(records(7, 8, 2 * MINUTE));
  return { store, objects };
}

describe('savepoint cut and restore', () => {
  test('when a savepoint taken mid-stream is restored into an empty table and the stream is delivered again from its start, the rows equal an uninterrupted run', async () => {
    const def = views('sp', { n: count(), total: sum((v) => v.ms) });
    const { store, objects } = await midStream(def);
    expect(rows(objects)).toHaveLength(2); // window T0 was emitted before the savepoint
    const saved = roundTrip(def, readCut(store.tables, 'sp'));
    expect(saved.manifest).toMatchObject({
      pipeline: 'sp',
      definitionFingerprint: def.stateFingerprint,
      fingerprints: [def.stateFingerprint],
      shards: [{ shardId: SHARD, commits: 2, closed: false, lastSequence: '8'.padStart(64, '0') }],
      openWindows: 1,
      // The last commit's first record (7) arrived at T0 + 2m + 7, less the 5-minute margin.
      resumeAt: T0 + 2 * MINUTE + 7 - 5 * MINUTE,
      stream: 'views',
      streamCreatedAt: STREAM.createdAt,
    });

    const restored = new InMemoryStateStore();
    const snapshot = savedSnapshot(saved.manifest, saved.items);
    expect(
      restoreRefusal({ ...saved, snapshot, existing: [], target: target(def), table: 't' }),
    ).toBeUndefined();
    restoreInto(restored.tables, saved.items);
    // The old table lost; the new mapping starts at the trim horizon: records 1..8 come again.
    const after = processor(restored, objects, def);
    await after.apply([...records(1, 3), ...records(7, 8, 2 * MINUTE)]);
    // Fenced by the restored shard progress: nothing of them is applied twice.
    expect((await restored.readProgress('sp')).shards[0]!.counts?.records).toBe(8);
    await after.apply(records(9, 12, 2 * MINUTE));
    await after.tick(Infinity);

    const uninterrupted = new InMemoryObjectStore();
    const reference = processor(new InMemoryStateStore(), uninterrupted, def);
    await reference.apply(records(1, 6));
    await reference.apply(records(7, 12, 2 * MINUTE));
    await reference.tick(Infinity);
    expect(rows(objects)).toEqual(rows(uninterrupted));
    const shard = (await restored.readProgress('sp')).shards[0]!;
    expect(shard.counts?.records).toBe(12);
  });

  test('when a shard commits while the cut is read, its new commit and an attempt no commit named stay out of the cut', async () => {
    const def = views('race', { n: count() });
    const { store } = await midStream(def);
    const progress = partition(store.tables, progressPartitionKey('race'));
    // After the progress partition was read: a commit (3), and an attempt at commit 4 that never commits.
    await processor(store, new InMemoryObjectStore(), def).apply(records(9, 10, 2 * MINUTE));
    const orphan = await store.writeSegment({
      pipeline: 'race',
      shardId: SHARD,
      commit: 4,
      firstSequence: '11',
      lastSequence: '11',
      body: new Uint8Array([1]),
      ttl: 1,
    });
    expect(orphan.attempt).toBe(0);
    const cut = readCut(store.tables, 'race', progress);
    const segmentKeys = cut.map(itemKey).filter((k) => k.pk.startsWith('C#'));
    expect(segmentKeys.map((k) => k.sk)).toEqual(['000000000001#0000#0000', '000000000002#0000#0000']);
    // The cut restores to the state before commit 3: records 9, 10 are applied again after it.
    const restored = new InMemoryStateStore();
    restoreInto(restored.tables, cut, 'race');
    const objects = new InMemoryObjectStore();
    const after = processor(restored, objects, def);
    await after.apply(records(9, 10, 2 * MINUTE));
    await after.tick(Infinity);
    expect(rows(objects).map((r) => [r.user, r.window_start, r.n])).toEqual([
      ['u0', T0 + 2 * MINUTE, 2],
      ['u1', T0 + 2 * MINUTE, 2],
    ]);
  });

  test('when a segment a pending window needs is gone from the table, no savepoint is taken', async () => {
    const def = views('gone', { n: count() });
    const { store } = await midStream(def);
    store.tables.partitions.get(segmentPartitionKey('gone', SHARD))!.delete('000000000002#0000#0000');
    expect(() => readCut(store.tables, 'gone')).toThrow(
      new SavepointError(
        `Segment 2 of shard ${SHARD} is not in the state table though a pending window needs it: the table is damaged; a savepoint of it would not restore`,
      ),
    );
  });

  test('when two reads of a progress partition differ in any item, they are no cut; equal reads are', async () => {
    const def = views('dc', { n: count() });
    const { store } = await midStream(def);
    const a = partition(store.tables, progressPartitionKey('dc'));
    expect(sameCollect(a, [...a].reverse())).toBe(true);
    await processor(store, new InMemoryObjectStore(), def).apply(records(9, 9, 2 * MINUTE));
    expect(sameCollect(a, partition(store.tables, progressPartitionKey('dc')))).toBe(false);
    expect(sameCollect(a, a.slice(1))).toBe(false);
  });

  test('a restore writes segments first and shard items last', async () => {
    const { store } = await midStream(views('order', { n: count() }));
    const order = restoreWrites(readCut(store.tables, 'order').reverse(), []).map((w) => itemKey(w.item).sk);
    expect(order.slice(0, 2)).toEqual(['000000000001#0000#0000', '000000000002#0000#0000']);
    expect(order.slice(2, 3)[0]).toMatch(/^#shape#/);
    expect(order.slice(3)).toEqual(['#pipeline', `S#${SHARD}`]);
  });

  test("when the new stack's tick registered its shards before the restore, their empty items are replaced and a shard the savepoint does not know starts from the restored close mark", async () => {
    const def = views('reg', { n: count() });
    const { store } = await midStream(def);
    const saved = roundTrip(def, readCut(store.tables, 'reg'));
    const target = new InMemoryStateStore();
    const later = 'shardId-000000000007';
    await processor(target, new InMemoryObjectStore(), def).tick(undefined, { shardIds: [SHARD, later] });
    const existing = partition(target.tables, progressPartitionKey('reg'));
    expect(existing.map((i) => itemKey(i).sk)).toEqual([`S#${SHARD}`, `S#${later}`]);
    const snapshot = savedSnapshot(saved.manifest, saved.items);
    expect(
      restoreRefusal({ ...saved, snapshot, existing, target: def as unknown as UpgradeTarget, table: 'T' }),
    ).toBeUndefined();
    restoreInto(target.tables, saved.items, 'reg');
    const restored = await target.readProgress('reg');
    const closedWatermark = restored.pipeline!.closedWatermark;
    expect(closedWatermark).toBeGreaterThan(T0);
    expect(restored.shards.map((s) => [s.shardId, s.commits, s.frozen, s.closedEnd])).toEqual([
      [SHARD, 2, snapshot.shards[0]!.frozen, snapshot.shards[0]!.closedEnd],
      [later, 0, closedWatermark, restored.pipeline!.closedEnd],
    ]);
    expect(restored.pipeline!.closedEnd).toBeGreaterThan(T0);
  });

  test('when the savepoint predates the pipeline closedEnd, a registered shard it does not know keeps no closedEnd of its own: it reads as the restored close mark under the running lateness', async () => {
    const def = views('regold', { n: count() });
    const { store } = await midStream(def);
    const saved = roundTrip(def, readCut(store.tables, 'regold'));
    // The pipeline item as a version before closedEnd wrote it.
    const items = saved.items.map((item) => {
      if (itemKey(item).sk !== '#pipeline') return item;
      const { closedEnd: _dropped, ...rest } = item;
      return rest;
    });
    const target = new InMemoryStateStore();
    const later = 'shardId-000000000007';
    await processor(target, new InMemoryObjectStore(), def).tick(undefined, { shardIds: [SHARD, later] });
    expect((await target.readProgress('regold')).shards.map((s) => s.closedEnd)).toEqual([
      -Infinity,
      -Infinity,
    ]);
    restoreInto(target.tables, items, 'regold');
    const restored = await target.readProgress('regold');
    const registered = restored.shards.find((s) => s.shardId === later)!;
    expect([registered.frozen, registered.closedEnd]).toEqual([
      restored.pipeline!.closedWatermark,
      undefined,
    ]);
  });
});

describe('restore refusals', () => {
  async function saved(def: StatefulPipeline) {
    const { store } = await midStream(def);
    const s = roundTrip(def, readCut(store.tables, def.spec.name));
    return { ...s, snapshot: savedSnapshot(s.manifest, s.items) };
  }

  test('when the target table holds other state of the pipeline, the restore is refused in one line; state of this savepoint itself (a restore cut short) is not', async () => {
    const def = views('busy', { n: count() });
    const s = await saved(def);
    const other = new InMemoryStateStore();
    await processor(other, new InMemoryObjectStore(), def).apply(records(1, 2));
    const existing = partition(other.tables, progressPartitionKey('busy'));
    expect(restoreRefusal({ ...s, existing, target: target(def), table: 'T' })).toBe(
      `Table T already holds state of pipeline busy (1 progress item not from this savepoint): restore into a table without it (a new stack), or delete the items of partition P#busy first`,
    );
    const half = s.items.filter((i) => itemKey(i).sk === '#pipeline');
    expect(restoreRefusal({ ...s, existing: half, target: target(def), table: 'T' })).toBeUndefined();
  });

  test('when the target definition is incompatible with the open windows, the restore is refused; an evolvable one may restore', async () => {
    const def = views('fp', { n: count() });
    const s = await saved(def);
    expect(
      restoreRefusal({
        ...s,
        existing: [],
        target: target(views('fp', { n: sum((v) => v.ms) })),
        table: 'T',
      }),
    ).toBe(
      `The savepoint holds 1 open windows the target definition cannot read (aggregate n changed from count to sum): restore it with the definition it was taken with (fingerprint ${def.stateFingerprint})`,
    );
    const evolved = views('fp', { n: count(), total: sum((v) => v.ms) });
    expect(restoreRefusal({ ...s, existing: [], target: target(evolved), table: 'T' })).toBeUndefined();
    // A stream of the same name created after the savepoint holds other sequence numbers: its records would
    // be fenced by positions they are not.
    const recreated = { name: 'views', createdAt: T0 + 1 };
    expect(restoreRefusal({ ...s, existing: [], target: target(def), table: 'T', stream: recreated })).toBe(
      "The savepoint's shard positions are in stream views created at 2029-12-31T23:00:00.000Z; the target reads views created at 2030-01-01T00:00:00.001Z, whose sequence numbers they are not: restore it where the saved stream is read",
    );
    expect(
      restoreRefusal({ ...s, existing: [], target: target(views('other', { n: count() })), table: 'T' }),
    ).toBe('The savepoint is of pipeline fp, not other: restore it with --pipeline fp');
  });
});

describe('savepoint format', () => {
  async function saved() {
    const def = views('fmt', { n: count() });
    const { store } = await midStream(def);
    return roundTrip(def, readCut(store.tables, 'fmt'));
  }

  test('items survive the round trip byte for byte, binary bodies included', async () => {
    const def = views('rt', { n: count() });
    const { store } = await midStream(def);
    const cut = readCut(store.tables, 'rt');
    const back = roundTrip(def, cut).items;
    expect(
      back.map((i) =>
        Object.fromEntries(
          Object.entries(i).map(([k, v]) => [k, 'B' in v ? Buffer.from(v.B).toString('hex') : v]),
        ),
      ),
    ).toEqual(
      cut.map((i) =>
        Object.fromEntries(
          Object.entries(i).map(([k, v]) => [k, 'B' in v ? Buffer.from(v.B).toString('hex') : v]),
        ),
      ),
    );
  });

  test('when a byte of the items file changed, or it was cut short, it is refused by its checksum', async () => {
    const { file, manifest } = await saved();
    const flipped = Buffer.from(file.body);
    flipped[flipped.length - 5]! ^= 1;
    expect(() => decodeSavepointItems(flipped, manifest)).toThrow(SavepointInvalidError);
    expect(() => decodeSavepointItems(file.body.subarray(0, 10), manifest)).toThrow(
      /does not match its manifest's checksum/,
    );
  });

  test('when the manifest is another version, not a manifest, or lies about the items, the savepoint is refused', async () => {
    const { file, manifest } = await saved();
    expect(() => parseManifest(JSON.stringify({ ...manifest, version: 2 }))).toThrow(
      'The savepoint is format version 2; this shardflow reads version 1: restore it with the shardflow that took it',
    );
    expect(() => parseManifest('[]')).toThrow('manifest.json is not a shardflow-savepoint manifest');
    expect(() => parseManifest(JSON.stringify({ ...manifest, shards: [{ shardId: 'x' }] }))).toThrow(
      'manifest.json is missing a field or has one of the wrong type',
    );
    expect(() =>
      decodeSavepointItems(file.body, { ...manifest, items: { ...manifest.items, count: 1 } }),
    ).toThrow('state.jsonl.gz holds 5 items, its manifest says 1');
  });

  test('when the items file unpacks to more than its declared items can hold (a gzip bomb), it is refused before it is unpacked whole', async () => {
    const { manifest } = await saved();
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const declared = {
      ...manifest,
      items: {
        ...manifest.items,
        count: 2,
        bytes: bomb.byteLength,
        sha256: createHash('sha256').update(bomb).digest('hex'),
      },
    };
    expect(() => decodeSavepointItems(bomb, declared)).toThrow(
      'state.jsonl.gz is not gzip, or unpacks to more than its 2 items can hold',
    );
  });

  test('when a line holds a value of no item kind, or an item of another pipeline or shard, it is refused', async () => {
    const { manifest } = await saved();
    const withLines = (lines: string[]): SavepointManifest => {
      const body = gzipSync(lines.map((l) => `${l}\n`).join(''));
      const m = { ...manifest, items: { ...manifest.items, count: lines.length } };
      return {
        ...m,
        items: {
          ...m.items,
          bytes: body.byteLength,
          sha256: createHash('sha256').update(body).digest('hex'),
        },
      };
    };
    const decode = (lines: string[]) =>
      decodeSavepointItems(gzipSync(lines.map((l) => `${l}\n`).join('')), withLines(lines));
    expect(() => decode(['{"pk":{"S":"P#fmt","N":"1"},"sk":{"S":"#pipeline"}}'])).toThrow(
      'Savepoint line 1: attribute pk is not an item value',
    );
    expect(() => decode(['{"pk":{"S":"P#fmt"},"body":{"B":"***"}}'])).toThrow(
      'Savepoint line 1: attribute body is not an item value',
    );
    const foreign = decode([
      '{"pk":{"S":"C#other#shardId-000000000000"},"sk":{"S":"000000000001#0000#0000"}}',
    ]);
    expect(() => savedSnapshot(manifest, foreign)).toThrow(
      'Savepoint item C#other#shardId-000000000000 000000000001#0000#0000 is not state of pipeline fmt',
    );
    const stranger = decode(['{"pk":{"S":"P#fmt"},"sk":{"S":"S#shardId-9"}}']);
    expect(() => savedSnapshot(manifest, stranger)).toThrow(
      'Savepoint item P#fmt S#shardId-9 is no item of its pipeline',
    );
  });
});

describe('restore of a savepoint that is not one consistent cut', () => {
  /** What restore checks before it writes: undefined when it may go on, else the one line. */
  function checks(def: StatefulPipeline, items: StateItem[]): string | undefined {
    const saved = roundTrip(def, items);
    try {
      const snapshot = savedSnapshot(saved.manifest, saved.items);
      return restoreRefusal({ ...saved, snapshot, existing: [], target: target(def), table: 'T' });
    } catch (error) {
      return (error as Error).message;
    }
  }

  test('when it lacks the segment an open window needs, it is refused naming the segment', async () => {
    const def = views('gap', { n: count() });
    const { store } = await midStream(def);
    const cut = readCut(store.tables, 'gap');
    expect(checks(def, cut)).toBeUndefined();
    // Commit 2 holds records 7, 8 of the open window T0+2m (restored, the window would count 4 of 6).
    expect(
      checks(
        def,
        cut.filter((i) => itemKey(i).sk !== '000000000002#0000#0000'),
      ),
    ).toBe(
      `The savepoint lacks segment 2 of shard ${SHARD}, which a pending window needs: it is not one cut of the table`,
    );
  });

  test('when it holds one item twice, it is refused before anything is written', async () => {
    const def = views('dup', { n: count() });
    const { store } = await midStream(def);
    const cut = readCut(store.tables, 'dup');
    const pipelineItem = cut.find((i) => itemKey(i).sk === '#pipeline')!;
    // A second #pipeline line saying every window through T0+1h was emitted (restored, the writes stopped
    // half-way at the second copy).
    const forged: StateItem = { ...pipelineItem, emittedEnd: { N: String(T0 + 3_600_000) } };
    expect(checks(def, [forged, ...cut])).toBe(
      'Savepoint item P#dup #pipeline is in it twice: it is not one cut of the table',
    );
  });
});
