// The ops the rank actors run, timed on this machine as the ranks run them: the default model in a
// `RankModel` (each op's intermediates in its one scratch region, what outlives the op copied out), its
// routed experts in batches, at a few sizes. Each point pairs the measured time with the
// op's FLOPs and bytes from the ranks' own cost functions, so a fit of one against the other is what the
// sim should charge.
import {
  type ModelConfig,
  RankModel,
  attentionOp,
  combineOp,
  embedOp,
  expertsOp,
  lmHeadOp,
  planDispatch,
  readModelConfig,
  slotOutputsFor,
} from '@asap/actors';
import { type BackendName, type DeviceOp, SeededRandom } from '@asap/runtime';

export interface OpPoint {
  readonly op: string;
  /** What was run, e.g. "256 tokens after 1024". */
  readonly size: string;
  readonly flops: number;
  readonly bytes: number;
  /** Of `flops`, the context FLOPs (`DeviceOp.contextFlops`; 0: none). */
  readonly contextFlops: number;
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

/**
 * Embed and combine cost well under a millisecond unless their fresh output buffer page-faults (then
 * several): bimodal, so a median needs more than `repeatsFor`'s few repeats, and they are cheap to repeat.
 */
const CHEAP_OP_REPEATS = 15;

function tokens(n: number, config: ModelConfig, random: SeededRandom): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(random.next() * config.vocabSize));
}

/** Times every rank op kind of the model in `dir` on the `backendName` backend. */
export async function timeRankOps(backendName: BackendName, dir: string, quick = false): Promise<OpPoint[]> {
  const c = await readModelConfig(dir);
  const everyExpert = Array.from({ length: c.numExperts }, (_, e) => e);
  const model = await RankModel.load({ modelDir: dir, backend: backendName, attentionSide: true, experts: c.layerKinds.map((k) => (k === 'moe' ? everyExpert : [])) });
  try {
    return timeOps(model, quick);
  } finally {
    model.dispose();
  }
}

function timeOps(model: RankModel, quick: boolean): OpPoint[] {
  const c = model.config;
  const layer = c.layerKinds.indexOf('moe');
  // Every expert on this one rank: the dispatch plan sends all routed rows to it.
  const holders = Array.from({ length: c.numExperts }, () => [0]);
  const random = new SeededRandom(7);
  const points: OpPoint[] = [];
  const add = (op: DeviceOp, size: string, ms: number): void => {
    points.push({ op: op.name, size, flops: op.flops ?? 0, bytes: op.bytes ?? 0, contextFlops: op.contextFlops ?? 0, ms });
  };

  for (const [n, start] of ATTENTION_POINTS) {
    const ids = tokens(start + n, c, random);
    const repeats = repeatsFor(n, quick);
    const size = start > 0 ? `${n} tokens after ${start}` : `${n} tokens`;
    add(embedOp(c, n), `${n} tokens`, medianMs(() => model.embed(ids.subarray(start)), CHEAP_OP_REPEATS));
    // A fresh cache per run (outside the timing), holding `start` positions already.
    const hidden = model.embed(ids.subarray(start));
    const before = start > 0 ? model.embed(ids.subarray(0, start)) : undefined;
    const fresh = () => {
      const kv = model.newKv(start + n);
      if (before) model.attention(layer, before, kv);
      return kv;
    };
    let half = model.attention(layer, hidden, fresh());
    const attentionMs: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const kv = fresh();
      const t0 = performance.now();
      half = model.attention(layer, hidden, kv);
      if (i > 0) attentionMs.push(performance.now() - t0);
      model.releaseKv(kv);
    }
    attentionMs.sort((a, b) => a - b);
    add(attentionOp(c, layer, n, start, model.weightBytes), size, attentionMs[Math.floor(attentionMs.length / 2)]);
    if (start > 0 || !half.moe) continue;
    const dispatch = half.moe;
    const [plan] = planDispatch([dispatch], holders, 1, () => 0);
    const source = [{ groups: plan.groups, rows: plan.rows }];
    const run = () => model.experts(layer, source);
    const rows = plan.groups.map(([, count]) => count);
    add(expertsOp(c, rows, model.weightBytes), `${n} tokens: ${n * c.topK} rows over ${rows.length} experts`, medianMs(run, repeats));
    // The rank fills the slot outputs from the combine replies; their values do not change combine's cost.
    const slots = slotOutputsFor(dispatch);
    add(combineOp(c, n), `${n} tokens`, medianMs(() => model.combine(half.hidden, dispatch, slots), CHEAP_OP_REPEATS));
  }
  for (const rows of LM_HEAD_ROWS) {
    const hidden = model.embed(tokens(rows, c, random));
    add(lmHeadOp(c, rows, model.weightBytes), `${rows} row${rows > 1 ? 's' : ''}`, medianMs(() => model.finish(hidden), repeatsFor(1, quick)));
  }
  return points;
}
