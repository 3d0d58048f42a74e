#!/usr/bin/env bash
# The prepared check for a machine with an NVIDIA GPU (an H200 when lent): builds the CUDA addon, runs the GPU
# tests, measures the kernels (`asap bench kernels --backend cuda --json`), then the golden fixtures and both
# engines (sync, asap) on the cuda backend. A few minutes in all; every step's output and a summary go to
# $OUT (or ./gpu-check-out). Run from anywhere in an installed checkout (node_modules present: this machine
# may have no network, so nothing is installed here); it never changes the GPU's settings.
#   packages/runtime/scripts/gpu-check.sh            # everything
#   STEPS="build tests bench" packages/runtime/scripts/gpu-check.sh
set -uo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${OUT:-$root/gpu-check-out}"
steps="${STEPS:-build tests bench fixtures engines}"
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
node_ts=(node --conditions=asap-source --import tsx)

step() {  # step NAME COMMAND...: runs it in the checkout, output to $out/NAME.log, one summary line
  local name="$1"
  shift
  case " $steps " in *" $name "*) ;; *) return 0 ;; esac
  local started=$SECONDS
  (cd "$root" && "$@") >"$out/$name.log" 2>&1
  local rc=$?
  local line="$name: exit $rc in $((SECONDS - started)) s"
  local tally
  tally="$(grep -E '^# (pass|fail|skipped) ' "$out/$name.log" | tr '\n' ' ')"
  [ -n "$tally" ] && line="$line ($tally)"
  echo "$line" | tee -a "$summary"
}

{
  echo "gpu-check $(date -u +%FT%TZ) on $(hostname)"
  if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; else echo "nvidia-smi: not found"; fi
  if command -v nvcc >/dev/null; then nvcc --version | tail -1; else echo "nvcc: not found"; fi
  node --version
} | tee -a "$summary"

# The runtime's build: wasm, the CPU addon, the CUDA addon (nvcc), dist/ for the workers of the threads host.
step build bash -c 'cd packages/runtime && node scripts/build-wasm.mjs && node scripts/build-native.mjs && node scripts/build-cuda.mjs && node ../../node_modules/typescript/bin/tsc -p tsconfig.build.json && cd ../actors && node ../../node_modules/typescript/bin/tsc -p tsconfig.build.json'
step tests bash -c 'cd packages/runtime && node --conditions=asap-source --import tsx --test --test-reporter=tap test/kernels-cuda.test.ts'
# `pnpm asap bench kernels --backend cuda --json`, without pnpm (it may need the network).
step bench "${node_ts[@]}" packages/bench/src/cli/main.ts bench kernels --backend cuda --json
step fixtures bash -c 'cd packages/actors && node --conditions=asap-source --import tsx --test --test-reporter=tap --test-name-pattern=cuda test/fixtures.test.ts'
step engines bash -c 'cd packages/actors && node --conditions=asap-source --import tsx --test --test-reporter=tap --test-name-pattern="cuda backend" test/engines.test.ts'

[ -s "$out/bench.log" ] && grep -E '^\{' "$out/bench.log" >"$out/bench-kernels-cuda.json" && echo "bench json: $out/bench-kernels-cuda.json" | tee -a "$summary"
echo "logs: $out" | tee -a "$summary"
