// Model shapes for the sim host with numerics off: a config.json only (no weights), the real Hugging Face
// values of each model, under packages/actors/shapes/<name>/. The rank actors read nothing else of them.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** DeepSeek-V3 (deepseek-ai/DeepSeek-V3 config.json) and Qwen3-235B-A22B (Qwen/Qwen3-235B-A22B config.json). */
export const MODEL_SHAPES: readonly string[] = ['deepseek-v3', 'qwen3-235b'];

// src/model/shapes/ and dist/model/shapes/ are both three levels under the package root.
const shapesRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shapes');

/** The absolute directory of a model shape (it holds config.json), for `createEngine({ model, numerics: false })`. */
export function modelShapeDir(name: string): string {
  if (!MODEL_SHAPES.includes(name)) throw new RangeError(`unknown model shape "${name}" (shapes: ${MODEL_SHAPES.join(', ')})`);
  return join(shapesRoot, name);
}
