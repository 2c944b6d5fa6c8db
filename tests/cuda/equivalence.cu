// The CUDA backend against the CPU backend: every layer, fused group and loss
// (support/equivalence_cases.hpp), as tests/backend/thrust_host.cpp checks
// ThrustHost in CI.
#include <ctnn/backend/cuda/backend.hpp>

#include "support/equivalence_cases.hpp"

namespace ctnn::testing::equivalence {
#define CTNN_RUN(id) TEST_CASE_TEMPLATE_INVOKE(id, ctnn::backend::Cuda);
CTNN_EQUIVALENCE_CASES(CTNN_RUN)
} // namespace ctnn::testing::equivalence
