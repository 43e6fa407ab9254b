// CPU row reductions: x (N, R) contiguous -> out (N). The op layer moves the reduced axes last.
#include <limits>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {

void reduce_rows(ReduceOp op, const Tensor& x, int64_t R, const Tensor& out) {
  const int64_t N = out.numel();
  visit_dtype(x.dtype(), [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bf16>) {
      throw Error("reduce: bf16 is a storage type; convert to f32 first");
    } else {
      const T* xp = static_cast<const T*>(x.raw_data());
      parallel_for(0, N, std::max<int64_t>(1, 16384 / std::max<int64_t>(R, 1)), [&](int64_t lo, int64_t hi) {
        for (int64_t n = lo; n < hi; ++n) {
          const T* row = xp + n * R;
          if (op == ReduceOp::sum) {
            // floats accumulate in double: sums over long rows keep full float accuracy
            using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
            Acc acc = 0;
            for (int64_t j = 0; j < R; ++j) acc += Acc(row[j]);
            static_cast<T*>(out.raw_data())[n] = T(acc);
          } else {
            int64_t best = 0;  // first index of the maximum; NaN wins, as in PyTorch
            for (int64_t j = 1; j < R; ++j) {
              if (row[best] != row[best]) break;
              if (row[j] > row[best] || row[j] != row[j]) best = j;
            }
            if (op == ReduceOp::max) static_cast<T*>(out.raw_data())[n] = row[best];
            else static_cast<int64_t*>(out.raw_data())[n] = best;
          }
        }
      });
    }
  });
}

}  // namespace mb::cpu
