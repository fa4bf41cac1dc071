/**
 * A table change (change data capture from a DynamoDB stream): the typed record a table-source pipeline's
 * `clean` receives, and which images each stream view type must carry. Pure: the edge
 * (`adapters/dynamoDBStreamEventCodec.ts`) builds changes from Lambda's event and asks this module what is
 * missing.
 */
import type { EpochMillis } from './types';

/** What a DynamoDB stream writes for each change (its `StreamViewType`). */
export const STREAM_VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const;
export type StreamViewType = (typeof STREAM_VIEW_TYPES)[number];

/** The kinds of change. */
export const CHANGE_EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE'] as const;
export type ChangeEventName = (typeof CHANGE_EVENT_NAMES)[number];

/**
 * One change of one item, images unmarshalled to plain JSON (numbers as numbers, sets as arrays).
 * `eventTime` is the change's `ApproximateCreationDateTime` in epoch ms.
 */
export interface TableChange<Item = Record<string, unknown>> {
  readonly eventName: ChangeEventName;
  readonly keys: Record<string, unknown>;
  /** The item after the change (INSERT, MODIFY) when the view has new images. */
  readonly newImage?: Item;
  /** The item before the change (MODIFY, REMOVE) when the view has old images. */
  readonly oldImage?: Item;
  readonly eventTime: EpochMillis;
}

const HAS_NEW: ReadonlySet<StreamViewType> = new Set(['NEW_IMAGE', 'NEW_AND_OLD_IMAGES']);
const HAS_OLD: ReadonlySet<StreamViewType> = new Set(['OLD_IMAGE', 'NEW_AND_OLD_IMAGES']);

/**
 * Why a change cannot be what `view` delivers (an image the view carries for this kind of change is
 * missing), or undefined when it can.
 *
 * @example missingImage('MODIFY', 'NEW_AND_OLD_IMAGES', true, false); // 'MODIFY without OldImage ...'
 */
export function missingImage(
  eventName: ChangeEventName,
  view: StreamViewType,
  hasNewImage: boolean,
  hasOldImage: boolean,
): string | undefined {
  if (HAS_NEW.has(view) && eventName !== 'REMOVE' && !hasNewImage)
    return `${eventName} without NewImage on a ${view} stream`;
  if (HAS_OLD.has(view) && eventName !== 'INSERT' && !hasOldImage)
    return `${eventName} without OldImage on a ${view} stream`;
  return undefined;
}
