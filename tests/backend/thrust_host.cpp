// ThrustHost, the CUDA backend's kernels run by OpenMP, against the CPU
// backend: every layer, fused group and loss (support/equivalence_cases.hpp).
// The rest of the suite runs on ThrustHost too (CTNN_TEST_BACKENDS).
#if defined(CTNN_TEST_THRUST)
#include <ctnn/backend/thrust/host.hpp>

#include "support/equivalence_cases.hpp"

namespace ctnn::testing::equivalence {
#define CTNN_RUN(id) TEST_CASE_TEMPLATE_INVOKE(id, ctnn::backend::ThrustHost);
CTNN_EQUIVALENCE_CASES(CTNN_RUN)
} // namespace ctnn::testing::equivalence
#endif
