import type { ModelConfig } from './model-config.ts';

/**
 * Bytes per stored matmul weight as the checkpoint ships them: 1 for an 8-bit quantized checkpoint
 * (`quantization_config` fp8, as DeepSeek-V3 ships, or 8-bit int), else 2 for bf16/f16 and 4 for f32
 * (`torch_dtype`). A shape model charges weight reads with it.
 */
export function checkpointWeightBytes(config: ModelConfig): number {
  const quantization = config.raw.quantization_config;
  if (typeof quantization === 'object' && quantization !== null) {
    const q = quantization as Readonly<Record<string, unknown>>;
    if (q.quant_method === 'fp8' || q.bits === 8) return 1;
  }
  const dtype = config.raw.torch_dtype ?? config.raw.dtype;
  return dtype === 'bfloat16' || dtype === 'float16' ? 2 : 4;
}
