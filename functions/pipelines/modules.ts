/** The modules of the pipelines this project ships (what the app deploys by default), absolute paths. */
export const shippedPipelineModules: readonly string[] = [require.resolve('./pageActivity')];
