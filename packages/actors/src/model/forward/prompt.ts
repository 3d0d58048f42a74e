/**
 * The token ids of a prompt as Int32Array, checked: non-empty, integers in 0..vocabSize-1, and (when
 * `maxPositions` is given) positions `start`..`start + length - 1` within the model's max_position_embeddings.
 * The error names the offending position, so a gateway can reject a request before any rank sees it.
 */
export function checkPrompt(tokens: ArrayLike<number>, vocabSize: number, maxPositions = Infinity, start = 0): Int32Array {
  if (tokens.length === 0) throw new RangeError('empty prompt: prefill needs at least one token');
  if (start + tokens.length > maxPositions) {
    throw new RangeError(
      `prompt too long: positions ${start}..${start + tokens.length - 1} exceed the model's max_position_embeddings (${maxPositions})`,
    );
  }
  const ids = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) {
      throw new RangeError(`token ${t} at position ${i} is out of range: the vocabulary has ids 0..${vocabSize - 1}`);
    }
    ids[i] = t;
  }
  return ids;
}
