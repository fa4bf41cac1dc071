/** Shared by the emulator measurement scripts (`measure.ts`, `profileApply.ts`): their input and their local cloud. */
import { randomUUID } from 'node:crypto';
import { createClients, resetClients, type AwsClients } from '../../functions/adapters/aws';
import type { RawRecord } from '../../functions/core/types';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalCloud } from '../../localstack/emulators';

/** Event time of the first batch. */
export const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);

/** Number of distinct pages (the page-activity key) in a batch. */
const KEYS = 50;

/** `size` page-activity view events of one shard, spread evenly over `spanMs` of event time from `firstTs`. */
export function pageViewBatch(
  shardId: string,
  firstSeq: number,
  size: number,
  firstTs: number,
  spanMs: number,
): RawRecord[] {
  return Array.from({ length: size }, (_, i) => {
    const ts = firstTs + Math.floor((i * spanMs) / size);
    const event = {
      eventId: randomUUID(),
      userId: `u${i % 97}`,
      sessionId: 's',
      page: `/page/${i % KEYS}`,
      action: 'view',
      country: 'DE',
      device: 'mobile',
      durationMs: i % 500,
      revenue: 0,
      ts: new Date(ts).toISOString(),
    };
    return {
      shardId,
      sequenceNumber: String(firstSeq + i),
      partitionKey: String(i),
      data: Buffer.from(JSON.stringify(event)).toString('base64'),
      approximateArrivalTimestamp: ts,
    };
  });
}

/** Starts the embedded local cloud, points this process's AWS clients at it, runs `body`, then stops the cloud. */
export async function onLocalCloud(body: (clients: AwsClients) => Promise<void>): Promise<void> {
  const cloud = await startLocalCloud({ edgePort: 0 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: cloud.endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  });
  resetClients();
  try {
    await body(createClients());
  } finally {
    await cloud.stop();
  }
}
