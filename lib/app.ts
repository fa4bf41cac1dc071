/**
 * The shardflow CDK app (cdk.json runs it with tsx): one stack with every shipped pipeline, each bundled
 * from its own module, checked by cdk-nag's AwsSolutions pack. Context: `-c stackName=<name>` (default
 * `Shardflow`), `-c removalPolicy=destroy` for throw-away stacks, `-c analytics=false` to leave out Glue and
 * Athena (LocalStack Community has neither), `-c pipelines=<module>[,<module>…]` to deploy other pipeline
 * modules instead.
 */
import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { shippedPipelineModules } from '../functions/pipelines/modules';
import { pipelinesFromContext } from './pipelinesFromContext';
import { ShardflowStack } from './stacks/ShardflowStack';

const app = new App();
const stackName: unknown = app.node.tryGetContext('stackName');
const destroy = app.node.tryGetContext('removalPolicy') === 'destroy';
const analytics: unknown = app.node.tryGetContext('analytics');

new ShardflowStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'Shardflow', {
  pipelines: pipelinesFromContext(app, shippedPipelineModules).map((entry) => ({ entry })),
  description:
    'shardflow: Kinesis -> Lambda operators -> DynamoDB window state -> S3 Parquet, Glue and Athena',
  ...(destroy ? { removalPolicy: RemovalPolicy.DESTROY } : {}),
  analytics: analytics !== false && analytics !== 'false',
});
// cdk-nag v3 runs as a policy-validation plugin (it replaced the v2 Aspect); any unacknowledged
// finding fails synthesis.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
