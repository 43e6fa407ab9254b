#include "tensor/parallel.h"

#include <Eigen/Core>

#include "tensor/error.h"

namespace mb {

void set_num_threads(int n) {
  MB_CHECK(n >= 1, "set_num_threads: need at least 1 thread, got ", n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  Eigen::setNbThreads(n);
}

namespace {
thread_local bool serial = false;
}
SerialScope::SerialScope() : outer_(serial) { serial = true; }
SerialScope::~SerialScope() { serial = outer_; }
bool in_serial_scope() { return serial; }

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace mb
