// The ops the rank actors run, timed on this machine as the ranks run them: the default model in a
// `RankModel` (each op's intermediates in its one scratch region, what outlives the op copied out), its
// routed experts in batches, at a few sizes. Each point pairs the measured time with the
// op's FLOPs and bytes from the ranks' own cost functions, so a fit of one against the other is what the
// sim should charge.
import {
  type ModelConfig,
  RankModel,
  type RankKv,
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

/**
 * One op to time: `prepare` (untimed) makes what a run needs, `run` is the op, `done` (untimed) releases it.
 * An attention run needs a fresh cache holding its earlier positions, made and freed outside the timing.
 */
interface Probe {
  readonly op: DeviceOp;
  readonly size: string;
  readonly run: (prepared: unknown) => void;
  readonly prepare?: () => unknown;
  readonly done?: (prepared: unknown) => void;
}

/**
 * Rounds, each running every probe once: this machine's speed drifts in spells of a second or more (the same
 * 512-token attention took 7 ms in one spell and 12 ms in the next), so probes take turns and a spell hits
 * them alike, where timing one size's repeats back to back gave that size alone the spell. The first rounds
 * are warm-up (first-call compilation, page faults of fresh buffers); each point is its median.
 */
function timeInRounds(probes: readonly Probe[], warmRounds: number, rounds: number): number[] {
  const times = probes.map((): number[] => []);
  for (let round = 0; round < warmRounds + rounds; round++) {
    for (const [i, probe] of probes.entries()) {
      const prepared = probe.prepare?.();
      const start = performance.now();
      probe.run(prepared);
      const ms = performance.now() - start;
      probe.done?.(prepared);
      if (round >= warmRounds) times[i].push(ms);
    }
  }
  return times.map((t) => {
    const sorted = [...t].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  });
}

/** Every probe runs this many times, after WARM_ROUNDS untimed: a round costs well under a second. */
const ROUNDS = { quick: 9, full: 21 };
const WARM_ROUNDS = 2;

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
  const probes: Probe[] = [];

  for (const [n, start] of ATTENTION_POINTS) {
    const ids = tokens(start + n, c, random);
    const size = start > 0 ? `${n} tokens after ${start}` : `${n} tokens`;
    probes.push({ op: embedOp(c, n), size: `${n} tokens`, run: () => model.embed(ids.subarray(start)) });
    const hidden = model.embed(ids.subarray(start));
    const before = start > 0 ? model.embed(ids.subarray(0, start)) : undefined;
    probes.push({
      op: attentionOp(c, layer, n, start, model.weightBytes),
      size,
      prepare: () => {
        const kv = model.newKv(start + n);
        if (before) model.attention(layer, before, kv);
        return kv;
      },
      run: (kv) => model.attention(layer, hidden, kv as RankKv),
      done: (kv) => model.releaseKv(kv as RankKv),
    });
    if (start > 0) continue;
    const kv = model.newKv(n);
    const half = model.attention(layer, hidden, kv);
    model.releaseKv(kv);
    if (!half.moe) continue;
    const dispatch = half.moe;
    const [plan] = planDispatch([dispatch], holders, 1, () => 0);
    const source = [{ groups: plan.groups, rows: plan.rows }];
    const rows = plan.groups.map(([, count]) => count);
    probes.push({ op: expertsOp(c, rows, model.weightBytes), size: `${n} tokens: ${n * c.topK} rows over ${rows.length} experts`, run: () => model.experts(layer, source) });
    // The rank fills the slot outputs from the combine replies; their values do not change combine's cost.
    const slots = slotOutputsFor(dispatch);
    probes.push({ op: combineOp(c, n), size: `${n} tokens`, run: () => model.combine(half.hidden, dispatch, slots) });
  }
  for (const rows of LM_HEAD_ROWS) {
    const hidden = model.embed(tokens(rows, c, random));
    probes.push({ op: lmHeadOp(c, rows, model.weightBytes), size: `${rows} row${rows > 1 ? 's' : ''}`, run: () => model.finish(hidden) });
  }
  const ms = timeInRounds(probes, WARM_ROUNDS, quick ? ROUNDS.quick : ROUNDS.full);
  return probes.map(({ op, size }, i) => ({ op: op.name, size, flops: op.flops ?? 0, bytes: op.bytes ?? 0, contextFlops: op.contextFlops ?? 0, ms: ms[i] }));
}
