// fit, evaluate, predict and the moves between backends on the CUDA backend,
// against the CPU backend (support/training_cases.hpp).
#include <ctnn/backend/cuda/backend.hpp>

#include "support/training_cases.hpp"

namespace ctnn::testing::training {
#define CTNN_RUN(id) TEST_CASE_TEMPLATE_INVOKE(id, ctnn::backend::Cuda);
CTNN_TRAINING_CASES(CTNN_RUN)
} // namespace ctnn::testing::training
