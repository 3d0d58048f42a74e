// What every workload produces: requests with an arrival time and a prompt length, in arrival order.
import { SeededRandom } from '@asap/runtime';

export interface WorkloadRequest {
  readonly id: number;
  /** ms after the workload's start. */
  readonly arrivalMs: number;
  readonly promptTokens: number;
}

/** Arrival times and lengths zipped into requests, ids in arrival order. */
export function toRequests(arrivalsMs: readonly number[], lengths: readonly number[]): WorkloadRequest[] {
  if (arrivalsMs.length !== lengths.length) throw new RangeError(`workload: ${arrivalsMs.length} arrivals for ${lengths.length} lengths`);
  return arrivalsMs.map((arrivalMs, id) => ({ id, arrivalMs, promptTokens: lengths[id] }));
}

/** A request's prompt token ids: deterministic for (seed, request id), uniform over the vocabulary. */
export function promptIds(request: WorkloadRequest, vocabSize: number, seed: number): Int32Array {
  const random = new SeededRandom(seed, request.id + 1);
  const ids = new Int32Array(request.promptTokens);
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(random.next() * vocabSize);
  return ids;
}
