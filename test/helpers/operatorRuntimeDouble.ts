import { decodeKinesisEvent } from '../../functions/adapters/kinesisEventCodec';

/**
 * The runtime double the operator and tick handlers get instead of DynamoDB, S3 and Powertools. Build it
 * inside the hoisted `jest.mock('functions/adapters/operatorRuntimeCore')` factory (through
 * `jest.requireActual`), so that the handler module sees it when it is imported.
 *
 * @param processor the processor methods the handler under test calls (`apply` or `tick` mocks).
 */
export function operatorRuntimeDouble<P extends object>(processor: P) {
  return {
    processor,
    store: { stats: { requests: 0, conflicts: 0, throttles: 0, cacheHits: 0, cacheBypasses: 0 } },
    logger: { warn: jest.fn(), error: jest.fn(), info: jest.fn() },
    metrics: { publishStoredMetrics: jest.fn(), addMetric: jest.fn() },
    decode: jest.fn(async (event: unknown) => decodeKinesisEvent(event)),
    recordBatch: jest.fn(),
    recordRefusal: jest.fn(() => false),
    recordPublishFailure: jest.fn(() => false),
    recordStore: jest.fn(),
    recordDeadLetters: jest.fn(),
    listOpenShards: jest.fn(),
    countFailedBatches: jest.fn(),
  };
}

/** The double of {@link operatorRuntimeDouble} around `processor` methods of type `P`. */
export type OperatorRuntimeDouble<P extends object> = ReturnType<typeof operatorRuntimeDouble<P>>;
