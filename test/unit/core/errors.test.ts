import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeConfigError } from '../../../functions/adapters/operatorRuntime';
import { StreamRangeUnreadableError } from '../../../functions/adapters/streamShards';
import { InvalidOptionError, PipelineDefinitionError, ShardflowError } from '../../../functions/core/errors';
import { StateConflictError } from '../../../functions/core/state/errors';
import { ShardflowCdkError } from '../../../lib/errors';
import { CommandFailedError } from '../../../localstack/cli/commands/cliAction';
import { DeployerError } from '../../../localstack/deployer/errors';
import { LocalCloudError } from '../../../localstack/emulators/errors';
import { EventSourceMappingError } from '../../../localstack/eventSourceMapping/errors';
import { QueryError } from '../../../localstack/query/errors';
import { ShardflowCliError } from '../../../localstack/start/errors';

const ROOT = join(__dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('errors', () => {
  test('when any part of shardflow throws, the error is a ShardflowError with a code from its class name', () => {
    const errors = [
      new PipelineDefinitionError('m'),
      new InvalidOptionError('m'),
      new StateConflictError('m', undefined),
      new RuntimeConfigError('m'),
      new StreamRangeUnreadableError('m'),
      new ShardflowCdkError('m'),
      new CommandFailedError('m'),
      new DeployerError('m'),
      new LocalCloudError('m'),
      new EventSourceMappingError('m'),
      new QueryError('m'),
      new ShardflowCliError('m'),
    ];
    for (const error of errors) expect(error).toBeInstanceOf(ShardflowError);
    expect(errors.map((e) => e.code)).toEqual([
      'PIPELINE_DEFINITION',
      'INVALID_OPTION',
      'STATE_CONFLICT',
      'RUNTIME_CONFIG',
      'STREAM_RANGE_UNREADABLE',
      'SHARDFLOW_CDK',
      'COMMAND_FAILED',
      'DEPLOYER',
      'LOCAL_CLOUD',
      'EVENT_SOURCE_MAPPING',
      'QUERY',
      'SHARDFLOW_CLI',
    ]);
  });

  test('when the sources are read, ShardflowError is the only class extending Error and functions/ throws no bare Error', () => {
    const files = ['functions', 'lib', 'localstack'].flatMap((dir) => sources(join(ROOT, dir)));
    const extendsError = files.filter((f) => / extends Error\b/.test(readFileSync(f, 'utf8')));
    expect(extendsError.map((f) => f.slice(ROOT.length + 1))).toEqual(['functions/core/errors.ts']);
    const bare = sources(join(ROOT, 'functions'))
      // The KPL parser's errors never leave it: it turns them into a rejection reason.
      .filter((f) => !f.endsWith('kplAggregate.ts'))
      .filter((f) => /throw new (Range)?Error\(/.test(readFileSync(f, 'utf8')));
    expect(bare).toEqual([]);
  });
});
