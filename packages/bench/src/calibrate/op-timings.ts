// The ops the rank actors run, timed on this machine: the default model's attention half, a batch of its
// routed experts, combine, embed and the LM head, each through the same forward pieces the ranks call, on
// the default backend, at a few sizes. Each point pairs the measured time with the op's FLOPs and bytes
// from the ranks' own cost functions, so a fit of one against the other is what the sim should charge.
import {
  KvCache,
  type ModelConfig,
  type MoeModel,
  attentionHalf,
  attentionOp,
  combine,
  combineOp,
  embedOp,
  expertsOp,
  lmHeadLogits,
  lmHeadOp,
  loadModel,
  residentModel,
  rowsByExpert,
  runLocalExperts,
} from '@asap/actors';
import { type Backend, type DeviceOp, SeededRandom, type Tensor } from '@asap/runtime';

export interface OpPoint {
  readonly op: string;
  /** What was run, e.g. "256 tokens after 1024". */
  readonly size: string;
  readonly flops: number;
  readonly bytes: number;
  /** Median of the repeats. */
  readonly ms: number;
}

/** (tokens, cached positions before them) of each attention point: whole prompts and later chunks. */
const ATTENTION_POINTS: readonly (readonly [number, number])[] = [
  [8, 0],
  [32, 0],
  [128, 0],
  [512, 0],
  [1024, 0],
  [256, 768],
  [512, 1536],
];
const LM_HEAD_ROWS = [1, 4];

function medianMs(run: () => void, repeats: number): number {
  run(); // warm: first-call compilation and page faults are not the op's cost
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function repeatsFor(tokens: number, quick: boolean): number {
  const base = tokens >= 512 ? 5 : tokens >= 64 ? 11 : 31;
  return quick ? Math.ceil(base / 3) : base;
}

/** Bytes per matmul weight element as the rank model holds them (what `RankModel` reports). */
function weightBytesOf(model: MoeModel): number {
  return model.attention().lmHead.dtype === 'bf16' ? 2 : 4;
}

function tokens(n: number, config: ModelConfig, random: SeededRandom): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(random.next() * config.vocabSize));
}

/** Times every rank op kind of the model in `dir` on `backend`. */
export async function timeRankOps(backend: Backend, dir: string, quick = false): Promise<OpPoint[]> {
  const model = residentModel((await loadModel(dir)).model, backend);
  const c = model.config;
  const weightBytes = weightBytesOf(model);
  const layer = c.layerKinds.indexOf('moe');
  const random = new SeededRandom(7);
  const points: OpPoint[] = [];
  const add = (op: DeviceOp, size: string, ms: number): void => {
    points.push({ op: op.name, size, flops: op.flops ?? 0, bytes: op.bytes ?? 0, ms });
  };
  const embed = (ids: Int32Array): Tensor => backend.gatherRows(model.attention().embedTokens, ids);

  for (const [n, start] of ATTENTION_POINTS) {
    const ids = tokens(start + n, c, random);
    const repeats = repeatsFor(n, quick);
    const size = start > 0 ? `${n} tokens after ${start}` : `${n} tokens`;
    add(embedOp(c, n), `${n} tokens`, medianMs(() => embed(ids.subarray(start)), repeats));
    // A fresh cache per run (outside the timing), holding `start` positions already.
    const hidden = embed(ids.subarray(start));
    const before = start > 0 ? embed(ids.subarray(0, start)) : undefined;
    const fresh = (): KvCache => {
      const kv = KvCache.create(c, start + n, backend);
      if (before) attentionHalf(backend, model, layer, before, kv.layers[layer]);
      return kv;
    };
    let half = attentionHalf(backend, model, layer, hidden, fresh().layers[layer]);
    const attentionMs: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const kv = fresh();
      const t0 = performance.now();
      half = attentionHalf(backend, model, layer, hidden, kv.layers[layer]);
      if (i > 0) attentionMs.push(performance.now() - t0);
      kv.release();
    }
    attentionMs.sort((a, b) => a - b);
    add(attentionOp(c, layer, n, start, weightBytes), size, attentionMs[Math.floor(attentionMs.length / 2)]);
    if (start > 0 || !half.moe) continue;
    const dispatch = half.moe;
    const rows = rowsByExpert(dispatch.routing).map((e) => e.tokens.length);
    let slots = runLocalExperts(backend, model, dispatch);
    add(expertsOp(c, rows, weightBytes), `${n} tokens: ${n * c.topK} rows over ${rows.length} experts`, medianMs(() => (slots = runLocalExperts(backend, model, dispatch)), repeats));
    add(combineOp(c, n), `${n} tokens`, medianMs(() => combine(backend, half.hidden, dispatch, slots), repeats));
  }
  for (const rows of LM_HEAD_ROWS) {
    const hidden = embed(tokens(rows, c, random));
    add(lmHeadOp(c, rows, weightBytes), `${rows} row${rows > 1 ? 's' : ''}`, medianMs(() => lmHeadLogits(backend, model, hidden).toF32(), repeatsFor(1, quick)));
  }
  return points;
}
