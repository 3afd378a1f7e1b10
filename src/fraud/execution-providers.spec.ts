import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config';
import { chooseProviders, parseExecutionProviders } from './execution-providers';

describe('ONNX_EXECUTION_PROVIDERS', () => {
  it('is a preference list of known providers', () => {
    expect(parseExecutionProviders('cuda,cpu')).toEqual(['cuda', 'cpu']);
    expect(parseExecutionProviders(' CPU ')).toEqual(['cpu']);
    expect(() => parseExecutionProviders('tpu,cpu')).toThrow('unknown execution provider "tpu"');
    expect(() => parseExecutionProviders(',')).toThrow('at least one');
  });

  it('is checked at start with the other settings', () => {
    expect(() => loadConfig({ ONNX_EXECUTION_PROVIDERS: 'gpu' })).toThrow(ConfigError);
    expect(() => loadConfig({ ONNX_EXECUTION_PROVIDERS: 'gpu' })).toThrow(
      /ONNX_EXECUTION_PROVIDERS: unknown execution provider "gpu"/,
    );
    expect(loadConfig({}).ONNX_EXECUTION_PROVIDERS).toBe('cuda,cpu');
  });

  it('uses CUDA only where its provider is installed, CPU otherwise', () => {
    const withoutCuda = chooseProviders(['cuda', 'cpu'], (p) => p === 'cpu');
    expect(withoutCuda.active).toBe('cpu');
    expect(withoutCuda.providers).toEqual(['cpu']);
    expect(withoutCuda.skipped[0]!.reason).toContain('--onnxruntime-node-install=cuda12');
    const withCuda = chooseProviders(['cuda', 'cpu'], () => true);
    expect(withCuda.active).toBe('cuda');
    expect(withCuda.providers).toEqual(['cuda', 'cpu']);
  });

  it('refuses a list where nothing is installed', () => {
    expect(() => chooseProviders(['cuda'], (p) => p === 'cpu')).toThrow(
      /none of ONNX_EXECUTION_PROVIDERS \(cuda\) is installed/,
    );
  });

  it('on this machine (no CUDA download) chooses the CPU', () => {
    expect(chooseProviders(['cuda', 'cpu']).active).toBe('cpu');
  });
});
