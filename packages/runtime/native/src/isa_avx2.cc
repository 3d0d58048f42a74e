// The kernels compiled for avx2 (see binding.gyp for its compiler flags).
#define ISA_AVX2 1
#define ISA_NAME "avx2"
#include <immintrin.h>
#include <cstddef>
#include <cstdint>
#include "table.h"
namespace isa_avx2 {
#include "kernels.h"
}  // namespace isa_avx2

const KernelTable* kernelsAvx2() { return &isa_avx2::table; }
