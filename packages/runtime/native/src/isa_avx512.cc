// The kernels compiled for avx512 (see binding.gyp for its compiler flags).
#define ISA_AVX512 1
#define ISA_NAME "avx512"
#include <immintrin.h>
#include <cstddef>
#include <cstdint>
#include "table.h"
namespace isa_avx512 {
#include "kernels.h"
}  // namespace isa_avx512

const KernelTable* kernelsAvx512() { return &isa_avx512::table; }
