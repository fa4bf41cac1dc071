import type { App } from 'aws-cdk-lib';

/**
 * The pipeline modules an app deploys: the `pipelines` context (`-c pipelines=<module>[,<module>…]`, what
 * `shardflow run <module>` synthesizes with) when given, else `defaults`.
 */
export function pipelinesFromContext(app: App, defaults: readonly string[]): readonly string[] {
  const given: unknown = app.node.tryGetContext('pipelines');
  return typeof given === 'string' && given.trim() !== ''
    ? given
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== '')
    : defaults;
}
