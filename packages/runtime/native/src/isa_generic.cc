// The kernels compiled for generic (see binding.gyp for its compiler flags).
#define ISA_GENERIC 1
#define ISA_NAME "generic"
#include <cstddef>
#include <cstdint>
#include "table.h"
namespace isa_generic {
#include "kernels.h"
}  // namespace isa_generic

const KernelTable* kernelsGeneric() { return &isa_generic::table; }
