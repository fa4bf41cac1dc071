import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DeployerError } from './errors';
import type { AssetLocator } from './planDeployment';
import type { CfnTemplate } from './types';

/** A stack read from a cloud assembly directory (`cdk.out`). */
export interface StackArtifact {
  readonly stackName: string;
  readonly template: CfnTemplate;
  readonly locateAsset: AssetLocator;
}

interface AssetsManifest {
  readonly files?: Readonly<
    Record<
      string,
      {
        readonly source: { readonly path?: string; readonly packaging?: string };
        readonly destinations: Readonly<Record<string, { readonly objectKey: string }>>;
      }
    >
  >;
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new DeployerError(`cannot read ${path}`, { cause: error });
  }
}

/**
 * Reads `<dir>/<Artifact>.template.json`, the stack name from `manifest.json` (when present) and the
 * assets manifests, and returns a locator from a function's `Code.S3Key` to its bundle directory.
 */
export function readStackArtifact(templatePath: string): StackArtifact {
  const dir = dirname(templatePath);
  const artifactId = basename(templatePath).replace(/\.template\.json$/, '');
  const template = readJson<CfnTemplate>(templatePath);
  let stackName = artifactId;
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = readJson<{
      artifacts?: Record<string, { properties?: { templateFile?: string; stackName?: string } }>;
    }>(manifestPath);
    for (const artifact of Object.values(manifest.artifacts ?? {})) {
      if (
        artifact.properties?.templateFile === basename(templatePath) &&
        artifact.properties.stackName !== undefined
      ) {
        stackName = artifact.properties.stackName;
      }
    }
  }
  const byObjectKey = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.assets.json'))) {
    const assets = readJson<AssetsManifest>(join(dir, file));
    for (const asset of Object.values(assets.files ?? {})) {
      if (asset.source.path === undefined) continue;
      for (const destination of Object.values(asset.destinations))
        byObjectKey.set(destination.objectKey, join(dir, asset.source.path));
    }
  }
  const locateAsset: AssetLocator = ({ s3Key, metadataPath, inlineCode, logicalId }) => {
    if (inlineCode !== undefined) {
      // Inline (`Code.ZipFile`) functions become a one-file bundle next to the staged assets.
      const inlineDir = join(dir, `inline.${logicalId}`);
      mkdirSync(inlineDir, { recursive: true });
      writeFileSync(join(inlineDir, 'index.js'), inlineCode);
      return inlineDir;
    }
    const candidates = [
      s3Key === undefined ? undefined : byObjectKey.get(s3Key),
      metadataPath === undefined ? undefined : join(dir, metadataPath),
      s3Key === undefined ? undefined : join(dir, `asset.${s3Key.replace(/\.zip$/, '')}`),
    ];
    return candidates.find(
      (candidate): candidate is string => candidate !== undefined && existsSync(candidate),
    );
  };
  return { stackName, template, locateAsset };
}
