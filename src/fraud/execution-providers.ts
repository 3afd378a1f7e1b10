import { existsSync } from 'node:fs';
import path from 'node:path';

// The names are configuration (validated at start); this file decides what runs where.
export { type ExecutionProvider, KNOWN_PROVIDERS, parseExecutionProviders } from '../config';
import type { ExecutionProvider } from '../config';

/** Where onnxruntime-node keeps its native libraries for this platform. */
function runtimeBinFolder(): string {
  const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Whether a provider can run here. CPU always; CUDA only where its provider library was installed
 * next to onnxruntime-node (`npm install --onnxruntime-node-install=cuda12` on a machine with a GPU).
 */
export function providerInstalled(provider: ExecutionProvider, binFolder = runtimeBinFolder()): boolean {
  switch (provider) {
    case 'cpu':
      return true;
    case 'cuda':
      return ['libonnxruntime_providers_cuda.so', 'onnxruntime_providers_cuda.dll'].some((file) =>
        existsSync(path.join(binFolder, file)),
      );
  }
}

export interface ProviderChoice {
  /** What the sessions are created with, in order (always ending with cpu as the last resort). */
  readonly providers: ExecutionProvider[];
  /** The one in use: the first of the preference list that is installed. */
  readonly active: ExecutionProvider;
  /** Preferred providers passed over, and why. */
  readonly skipped: Array<{ provider: ExecutionProvider; reason: string }>;
}

/** Decided once, at start: the preferred providers that are installed here, in order. */
export function chooseProviders(
  preference: readonly ExecutionProvider[],
  installed = providerInstalled,
): ProviderChoice {
  const skipped: ProviderChoice['skipped'] = [];
  const usable = preference.filter((provider) => {
    if (installed(provider)) return true;
    skipped.push({
      provider,
      reason: `the ${provider} provider is not installed (npm install --onnxruntime-node-install=cuda12)`,
    });
    return false;
  });
  if (usable.length === 0) {
    throw new Error(
      `none of ONNX_EXECUTION_PROVIDERS (${preference.join(',')}) is installed here; add cpu to the list`,
    );
  }
  return { providers: usable, active: usable[0]!, skipped };
}
