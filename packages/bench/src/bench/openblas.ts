// Reference matmul throughput from NumPy/OpenBLAS on one thread, through a python3 subprocess. It is a
// comparison only: when python3 or numpy is missing the figures are null ("n/a").
import { spawnSync } from 'node:child_process';

export interface MatmulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

const script = `
import json, sys, time
import numpy as np
shapes = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
out = []
for m, k, n in shapes:
    x = rng.standard_normal((m, k), dtype=np.float32)
    w = rng.standard_normal((n, k), dtype=np.float32)
    x @ w.T
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < 1.0 and len(times) < 200):
        t0 = time.perf_counter()
        x @ w.T
        times.append(time.perf_counter() - t0)
    times.sort()
    out.append([2.0 * m * k * n / times[len(times) // 2] / 1e9, 2.0 * m * k * n / times[0] / 1e9])
print(json.dumps({"numpy": np.__version__, "gflops": out}))
`;

export interface OpenBlasResult {
  /** GFLOP/s per shape from the median and the fastest run, or null when NumPy is unavailable. */
  readonly gflops: Array<number | null>;
  readonly best: Array<number | null>;
  readonly note: string;
}

export function openBlasMatmul(shapes: readonly MatmulShape[]): OpenBlasResult {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
  // Set on these machines, and they slow a current OpenBLAS down: removed for this one subprocess.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const args = ['-c', script, JSON.stringify(shapes.map((s) => [s.m, s.k, s.n]))];
  const result = spawnSync('python3', args, { env, encoding: 'utf8', timeout: 300_000 });
  const missing = shapes.map(() => null);
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? result.stderr.trim().split('\n').pop() ?? `exit ${result.status}`;
    return { gflops: missing, best: missing, note: `numpy unavailable (${why})` };
  }
  const parsed = JSON.parse(result.stdout) as { numpy: string; gflops: Array<[number, number]> };
  return {
    gflops: parsed.gflops.map(([median]) => median),
    best: parsed.gflops.map(([, best]) => best),
    note: `numpy ${parsed.numpy}, OPENBLAS_NUM_THREADS=1`,
  };
}
