/**
 * The objects a `prepare` call makes for each record that live until the batch ends: its cleaned record (the
 * `clean/` archive) and its routed element (`combine`'s input). The schema fast path's values
 * (`schemaFastPath.ts`) and the dedupe map of a batch (`WindowCombiner.ts`) follow the same rule.
 *
 * The rule: an object that lives as long as its batch is made by a constructor, never by an object literal.
 * V8 tracks the objects of each literal site, and a site whose objects are still alive at a young-generation
 * collection (a batch's are, until it ends) is switched to allocate straight into the old generation: every
 * later batch's objects then die there and wait for full collections, and each young collection scans them.
 * Whether a site was switched depended on when collections fell, so one run of the engine bench did and the
 * next did not. Measured 2026-12-07 (`--trace-gc`, page-activity, 100,000 records in batches of 1,000): with
 * literals ~9 MB promoted per young collection, 10-33 ms each, and a full collection (~60 ms) every ~6; with
 * constructors none promoted, 1-5 ms each, no full collection; engine bench CPU ratio 0.49 -> 0.57 over five
 * alternating pairs on a loaded machine. Constructed objects have no allocation site to track.
 */
import type { EpochMillis, WindowBounds } from '../types';
import type { CleanedRecord, RoutedElement } from './types';

/** A {@link CleanedRecord} of a Kinesis record (no sub-sequence number: a KPL sub-record adds its own). */
export class BatchCleanedRecord implements CleanedRecord {
  public constructor(
    public readonly shardId: string,
    public readonly sequenceNumber: string,
    public readonly partitionKey: string,
    public readonly eventTime: EpochMillis,
    public readonly value: unknown,
  ) {}
}

/** A {@link RoutedElement}. */
export class BatchRoutedElement implements RoutedElement {
  public constructor(
    public readonly shardId: string,
    public readonly sequence: string,
    public readonly eventTime: EpochMillis,
    public readonly key: string,
    public readonly inputs: readonly unknown[],
    public readonly dedupeId: string | undefined,
    public readonly windows: readonly WindowBounds[],
  ) {}
}
