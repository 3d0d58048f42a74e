# The native kernels: one static library per instruction set (each with its own compiler flags; the
# addon picks one at run time from the CPU's features) and the N-API addon that calls them.
# -ffp-contract=off: a multiply and an add stay two roundings unless a kernel asks for a fused one.
{
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden", "-fexceptions", "-Wno-maybe-uninitialized"],
    "cflags!": ["-fno-exceptions"],
    "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
  },
  "targets": [
    {
      "target_name": "kernels_avx512",
      "type": "static_library",
      "sources": ["src/isa_avx512.cc"],
      "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mf16c"],
    },
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "sources": ["src/isa_avx2.cc"],
      "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
    },
    {
      "target_name": "kernels_generic",
      "type": "static_library",
      "sources": ["src/isa_generic.cc"],
    },
    {
      "target_name": "asap_native",
      "sources": ["src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["kernels_generic"],
      "conditions": [["target_arch=='x64'", {"dependencies": ["kernels_avx512", "kernels_avx2"]}]],
    },
  ],
}
