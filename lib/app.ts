/**
 * The shardflow CDK app (cdk.json runs it with tsx): one stack with every shipped pipeline, each bundled
 * from its own module, checked by cdk-nag's AwsSolutions pack. Context: `-c stackName=<name>` (default
 * `Shardflow`), `-c removalPolicy=destroy` for throw-away stacks, `-c analytics=false` to leave out Glue and
 * Athena (LocalStack Community has neither), `-c pipelines=<module>[,<module>…]` to deploy other pipeline
 * modules instead; a table-source pipeline's module that exports `sourceTable` (its table's key) gets that table
 * created.
 */
import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { shippedPipelineModules } from '../functions/pipelines/modules';
import { pipelinesFromContext } from './pipelinesFromContext';
import { sourceTableOfModule } from './sourceTableOfModule';
import { ShardflowStack } from './stacks/ShardflowStack';

const app = new App();
const stackName: unknown = app.node.tryGetContext('stackName');
const destroy = app.node.tryGetContext('removalPolicy') === 'destroy';
const analytics: unknown = app.node.tryGetContext('analytics');

new ShardflowStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'Shardflow', {
  // A table-source pipeline's module may declare its table's key (`sourceTable`): the stack then creates it.
  pipelines: pipelinesFromContext(app, shippedPipelineModules).map((entry) => {
    const sourceTable = sourceTableOfModule(entry);
    return { entry, ...(sourceTable === undefined ? {} : { sourceTable }) };
  }),
  description:
    'shardflow: Kinesis -> Lambda operators -> DynamoDB window state -> S3 Parquet, Glue and Athena',
  ...(destroy ? { removalPolicy: RemovalPolicy.DESTROY } : {}),
  analytics: analytics !== false && analytics !== 'false',
});
// cdk-nag v3 runs as a policy-validation plugin (it replaced the v2 Aspect); any unacknowledged
// finding fails synthesis.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
