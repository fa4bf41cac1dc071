/** Backends of the fault harness: process memory (fast, most schedules) and the local cloud emulators. */
import { mkdir, writeFile } from 'node:fs/promises';
import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dirname, join } from 'node:path';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../functions/core/state/InMemoryStateStore';
import type { StateStore } from '../../functions/core/state/types';
import type { Backend } from './harness';
import { createBucket, createStateTable, mirrorPrefix } from './localResources';

export async function memoryBackend(): Promise<Backend> {
  const tables = new InMemoryStateTables();
  const objects = new InMemoryObjectStore();
  const stores: StateStore[] = [];
  return {
    newStore: () => {
      const store = new InMemoryStateStore({ tables });
      stores.push(store);
      return store;
    },
    objects,
    stateRequests: () => stores.reduce((sum, s) => sum + s.stats.requests, 0),
    mirror: async (dir) => {
      for (const [key, object] of objects.objects) {
        const file = join(dir, key);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, object.body);
      }
    },
    close: async () => undefined,
  };
}

let counter = 0;

/** Share of DynamoDB calls throttled inside the store (so its own retry paths run) on the emulator backend. */
const STORE_THROTTLE_RATE = 0.03;

/**
 * Makes `client` answer a share of its calls as DynamoDB does when it throttles — `ThrottlingException`, or a
 * transaction cancelled with a `ThrottlingError` reason — before they are sent: the store retries them itself.
 */
function throttleInside(client: DynamoDBClient, rate: number): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (Math.random() < rate) {
        if (context.commandName === 'TransactWriteItemsCommand') {
          throw new TransactionCanceledException({
            message: 'throttled (injected)',
            $metadata: {},
            CancellationReasons: [{ Code: 'ThrottlingError' }],
          });
        }
        throw Object.assign(new Error('throttled (injected)'), { name: 'ThrottlingException' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'shardflowInjectedThrottle' },
  );
}

/** A fresh table and bucket on the local cloud `AWS_ENDPOINT_URL` points at. */
export async function localCloudBackend(): Promise<Backend> {
  const clients = createClients();
  counter += 1;
  const name = `faults-${process.pid}-${counter}`;
  await createStateTable(clients.dynamoDb, name);
  await createBucket(clients.s3, name);
  const stores: StateStore[] = [];
  // Instant backoff: the throttles are injected (inside the store's client, and above the store).
  const sleep = async (): Promise<void> => undefined;
  return {
    newStore: () => {
      const client = createClients().dynamoDb;
      throttleInside(client, STORE_THROTTLE_RATE);
      const store = new DynamoDBStateStore({ tableName: name, client, sleep });
      stores.push(store);
      return store;
    },
    objects: new S3ObjectStore({ bucket: name, client: clients.s3 }),
    stateRequests: () => stores.reduce((sum, s) => sum + s.stats.requests, 0),
    storeThrottles: () => stores.reduce((sum, s) => sum + s.stats.throttles, 0),
    mirror: async (dir) => {
      await mirrorPrefix(clients.s3, name, '', dir);
    },
    close: async () => undefined,
  };
}
