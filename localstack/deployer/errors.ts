/** Errors of the local template deployer. */
import { ShardflowError } from '../../functions/core/errors';

export class DeployerError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeployerError';
  }
}

/** The template uses an intrinsic or a reference the deployer cannot resolve. */
export class TemplateResolutionError extends DeployerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TemplateResolutionError';
  }
}

/** A function's bundle could not be found in the cloud assembly. */
export class AssetNotFoundError extends DeployerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AssetNotFoundError';
  }
}

/** A custom resource answered FAILED (or not at all): the deploy stops before the functions run. */
export class CustomResourceFailedError extends DeployerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CustomResourceFailedError';
  }
}
