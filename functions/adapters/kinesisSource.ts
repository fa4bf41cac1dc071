/**
 * The runtime part that reads a Kinesis source (`runtimeParts.ts`): Lambda's Kinesis events, the stream's
 * shards by `ListShards`.
 */
import { kinesisClient } from './aws';
import { decodeKinesisEvent } from './kinesisEventCodec';
import type { SourcePart } from './runtimeParts';
import { listStreamShards, shardParentsLookup } from './streamShards';

export const kinesisSource: SourcePart = {
  name: 'kinesisSource',
  open(_spec, stream) {
    if (stream === undefined) return { decode: async (event) => decodeKinesisEvent(event) };
    const listShards = () => listStreamShards(kinesisClient(), stream);
    return {
      decode: async (event) => decodeKinesisEvent(event),
      listShards,
      shardParents: shardParentsLookup(listShards),
    };
  },
};
