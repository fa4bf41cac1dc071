/**
 * The runtime part that publishes to a downstream Kinesis stream (`runtimeParts.ts`): what to put and what to
 * put again is `StreamPublisher`'s, the PutRecords call `KinesisStreamPutter`'s.
 */
import { StreamPublisher } from '../core/state/streamPublisher';
import { KinesisStreamPutter } from './KinesisStreamPutter';
import type { PublisherPart } from './runtimeParts';

export const kinesisPublisher: PublisherPart = (target) => {
  const publisher = new StreamPublisher(new KinesisStreamPutter(), target);
  return { publish: (entries) => publisher.publish(entries) };
};
