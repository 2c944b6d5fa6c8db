// fit, evaluate, predict and the moves between backends on ThrustHost, the
// CUDA backend's kernels run by OpenMP, against the CPU backend.
#if defined(CTNN_TEST_THRUST)
#include <ctnn/backend/thrust/host.hpp>

#include "support/training_cases.hpp"

namespace ctnn::testing::training {
#define CTNN_RUN(id) TEST_CASE_TEMPLATE_INVOKE(id, ctnn::backend::ThrustHost);
CTNN_TRAINING_CASES(CTNN_RUN)
} // namespace ctnn::testing::training
#endif
