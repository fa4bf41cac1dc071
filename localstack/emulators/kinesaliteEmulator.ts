import { healthyKinesisEmulator } from './healthCheck';
import { startNodeCliEmulator } from './nodeCliEmulator';
import type { EmulatorOptions, RunningEmulator } from './types';
import { resolveLocalDependency } from './optionalDependency';

const PORT_PLACEHOLDER = 45685;

/**
 * Starts kinesalite (pure JavaScript, records in an in-memory LevelDB) on a free loopback port, with
 * 10 ms stream transitions and kinesis-mock's shard limit.
 *
 * Used for the million-event load run instead of kinesis-mock, whose PutRecords costs time proportional
 * to the records already in the target shard (in 0.6.2 it groups a request's entries by a key that holds
 * the shard's whole record vector, so every entry hashes every record of its shard): 1,000,000 events
 * would take hours to put. kinesalite puts at a flat ~15,000 records/s and reads at any depth in a few ms
 * (measured with 150,000 records of 200 bytes on 2 shards).
 */
export async function startKinesaliteEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startNodeCliEmulator(
    {
      name: 'kinesis',
      script: resolveLocalDependency('kinesalite/cli.js'),
      args: [
        '--port',
        String(PORT_PLACEHOLDER),
        '--createStreamMs',
        '10',
        '--deleteStreamMs',
        '10',
        '--updateStreamMs',
        '10',
        '--shardLimit',
        '1000',
      ],
      portPlaceholder: PORT_PLACEHOLDER,
      healthy: healthyKinesisEmulator,
    },
    options,
  );
}
