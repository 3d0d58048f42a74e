#!/usr/bin/env bash
# The prepared check for a machine with an NVIDIA GPU (an H200 when lent): the CUDA addon, the GPU tests, the
# kernels measured (`asap bench kernels --backend cuda --json`), then the golden fixtures and both engines
# (sync, asap) on the cuda backend. Every step's output and a summary go to $OUT (or ./gpu-check-out): 7 files,
# within what the device tool brings back (8). It never changes the GPU's settings.
#
# On the lent H200 (the device tool: no network, no node_modules, no Node listed in its image, 64 MiB in all):
#   1. here, in the checkout the device tool sends (the session's own), installed (`pnpm install` builds
#      build/cuda/asap_cuda.node with nvcc: check that it exists), after the last change to the sources:
#        node packages/runtime/scripts/bundle-gpu-check.mjs      # build/gpu-check: bundles, Node, ≈ 24 MiB
#   2. one call of the device tool's `run`:
#        command:   bash packages/runtime/scripts/gpu-check.sh
#        carry:     ["packages/runtime/build"]
#        timeout_s: 420
#      then `give_back` unless rerunning at once. The summary is in the reply's output_tail; the logs come back.
#
# Two modes, chosen by what the checkout holds (GPU_CHECK_MODE=source|bundle to force one):
#   source  node_modules present: builds (wasm, CPU addon, CUDA addon, dist/) and runs the TypeScript through tsx.
#   bundle  no node_modules: runs build/gpu-check/ (scripts/bundle-gpu-check.mjs) with plain `node --test` under
#           the Node packed with it (the one it was checked with; the machine's only if none was packed), the
#           carried build/cuda/asap_cuda.node (rebuilt there with nvcc only if it fails to load), and shims in
#           packages/*/dist/ for the modules the hosts load by URL. It says when the bundle is older than the tree.
#   packages/runtime/scripts/gpu-check.sh                 # every step
#   STEPS="build tests bench" STEP_TIMEOUT=60 packages/runtime/scripts/gpu-check.sh
set -uo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${OUT:-$root/gpu-check-out}"
steps="${STEPS:-build tests bench fixtures engines}"
step_timeout="${STEP_TIMEOUT:-80}"
prepared="$root/packages/runtime/build/gpu-check"
mode="${GPU_CHECK_MODE:-$([ -d "$root/node_modules/tsx" ] && echo source || echo bundle)}"
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"

die() {
  echo "gpu-check: $*" | tee -a "$summary" >&2
  exit 1
}

step() {  # step NAME COMMAND...: runs it in the checkout (at most $step_timeout s), output to $out/NAME.log, one summary line
  local name="$1"
  shift
  case " $steps " in *" $name "*) ;; *) return 0 ;; esac
  local started=$SECONDS
  (cd "$root" && timeout --kill-after=5 "$step_timeout" "$@") >"$out/$name.log" 2>&1
  local rc=$?
  local line="$name: exit $rc in $((SECONDS - started)) s"
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && line="$line (stopped at STEP_TIMEOUT=$step_timeout s)"
  local tally skipped
  tally="$(grep -E '^# (pass|fail|skipped) ' "$out/$name.log" | tr '\n' ' ')"
  [ -n "$tally" ] && line="$line ($tally)"
  # Why tests were skipped (the three commonest reasons; not the name filter's), and the last line of a step that failed.
  skipped="$(grep -oE '# SKIP .*' "$out/$name.log" | grep -v '# SKIP test name does not match pattern' | sort | uniq -c | sort -rn | head -3 | sed -E 's/^ *([0-9]+) # SKIP /\1× /' | tr '\n' ';')"
  [ -n "$skipped" ] && line="$line skipped: $skipped"
  [ "$rc" != 0 ] && line="$line last line: $(grep -v '^\s*$' "$out/$name.log" | tail -1)"
  line="$line$(grep -E '^addon: ' "$out/$name.log" | sed 's/^/ /' | tr '\n' ' ')"
  echo "$line" | tee -a "$summary"
}

if [ "$mode" = bundle ]; then
  [ -f "$prepared/manifest.txt" ] || die "no $prepared (bundle mode: run 'node packages/runtime/scripts/bundle-gpu-check.mjs' where node_modules is, and carry packages/runtime/build)"
  # Node: the one packed with the bundle (what it was checked with), unpacked once; else the machine's.
  archive="$(ls "$prepared"/node-v*-linux-*.tar.xz 2>/dev/null | head -1)"
  if [ -n "$archive" ]; then
    home="${TMPDIR:-/tmp}/asap-gpu-check-node"
    name="$(basename "$archive" .tar.xz)"
    if [ ! -x "$home/$name/bin/node" ]; then
      mkdir -p "$home"
      tar -C "$home" -xJf "$archive" 2>/dev/null ||
        python3 -c 'import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extractall(sys.argv[2], **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))' "$archive" "$home" ||
        die "could not unpack $archive (no xz, and python3's tarfile failed)"
    fi
    export PATH="$home/$name/bin:$PATH"
  fi
  command -v node >/dev/null || die "no node on this machine and none packed in $prepared"
  # The hosts load the threads worker and the rank actors from packages/*/dist/: shims point them at the bundle.
  while IFS= read -r -d '' shim; do
    target="$root/${shim#"$prepared/shims/"}"
    if [ -e "$target" ] && ! head -1 "$target" | grep -q '^// gpu-check shim'; then
      die "$target exists and is a real build: this checkout has builds, so run it with GPU_CHECK_MODE=source (needs node_modules)"
    fi
    mkdir -p "$(dirname "$target")" && cp "$shim" "$target"
  done < <(find "$prepared/shims" -type f -print0)
fi

{
  echo "gpu-check $(date -u +%FT%TZ) on $(uname -n), $mode mode"
  if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; else echo "nvidia-smi: not found"; fi
  if command -v nvcc >/dev/null; then nvcc --version | tail -1; else echo "nvcc: not found"; fi
  echo "node $(node --version) at $(command -v node)"
  if [ "$mode" = bundle ]; then
    cat "$prepared/manifest.txt"
    changed="$(cd "$root" && sha256sum -c "$prepared/sources.sha256" 2>/dev/null | grep -v ': OK$')"
    if [ -z "$changed" ]; then echo "bundle: made from these sources"
    else echo "bundle: STALE, made from other sources than these ($(echo "$changed" | wc -l) files differ: $(echo "$changed" | head -3 | tr '\n' ' '))"; fi
  fi
} | tee -a "$summary"

if [ "$mode" = source ]; then
  node_ts=(node --conditions=asap-source --import tsx)
  # The runtime's build: wasm, the CPU addon, the CUDA addon (nvcc), dist/ for the workers of the threads host.
  step build bash -c 'cd packages/runtime && node scripts/build-wasm.mjs && node scripts/build-native.mjs && node scripts/build-cuda.mjs && node ../../node_modules/typescript/bin/tsc -p tsconfig.build.json && cd ../actors && node ../../node_modules/typescript/bin/tsc -p tsconfig.build.json'
  step tests bash -c 'cd packages/runtime && node --conditions=asap-source --import tsx --test --test-reporter=tap test/kernels-cuda.test.ts'
  # `pnpm asap bench kernels --backend cuda --json`, without pnpm (it may need the network).
  step bench "${node_ts[@]}" packages/bench/src/cli/main.ts bench kernels --backend cuda --json
  step fixtures bash -c 'cd packages/actors && node --conditions=asap-source --import tsx --test --test-reporter=tap --test-name-pattern=cuda test/fixtures.test.ts'
  step engines bash -c 'cd packages/actors && node --conditions=asap-source --import tsx --test --test-reporter=tap --test-name-pattern="cuda backend" test/engines.test.ts'
else
  bundle="$prepared/bundle"
  # The carried addon (built with nvcc 13, cudart static) and what it says here; rebuilt with nvcc only if it
  # does not load, into a scratch folder first so that a failed build leaves the carried one in place.
  step build bash -c '
    addon=packages/runtime/build/cuda/asap_cuda.node
    probe() { node -e "const a = require(process.argv[1]); console.log(\"addon: $1, probe:\", JSON.stringify(a.probe()))" "$PWD/$addon"; }
    [ -f "$addon" ] || echo "no carried $addon"
    [ -f "$addon" ] && probe carried && exit 0
    command -v nvcc >/dev/null || { echo "the carried addon does not load and there is no nvcc to rebuild it"; exit 1; }
    scratch="$(mktemp -d)"
    ASAP_CUDA_OUT="$scratch" NODE_PATH="'"$prepared"'/node_modules" node packages/runtime/scripts/build-cuda.mjs &&
      [ -f "$scratch/asap_cuda.node" ] && mkdir -p "$(dirname "$addon")" && cp "$scratch/asap_cuda.node" "$addon" && probe "rebuilt here"'
  step tests bash -c "cd packages/runtime && node --test --test-reporter=tap '$bundle/kernels-cuda.test.mjs'"
  step bench node "$bundle/asap.mjs" bench kernels --backend cuda --json
  step fixtures bash -c "cd packages/actors && node --test --test-reporter=tap --test-name-pattern=cuda '$bundle/fixtures.test.mjs'"
  step engines bash -c "cd packages/actors && node --test --test-reporter=tap --test-name-pattern='cuda backend' '$bundle/engines.test.mjs'"
fi

if grep -qE '^\{' "$out/bench.log" 2>/dev/null; then
  grep -E '^\{' "$out/bench.log" >"$out/bench-kernels-cuda.json" && echo "bench json: $out/bench-kernels-cuda.json" | tee -a "$summary"
fi
echo "logs: $out" | tee -a "$summary"
