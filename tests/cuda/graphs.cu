// Graph capture on the CUDA backend: replay and InferenceGraph
// (support/graph_cases.hpp), as tests/backend/graph_capture.cpp checks them
// on ThrustHost in CI.
#include <ctnn/backend/cuda/backend.hpp>

#include "support/graph_cases.hpp"

namespace ctnn::testing::graphs {
#define CTNN_RUN(id) TEST_CASE_TEMPLATE_INVOKE(id, ctnn::backend::Cuda);
CTNN_GRAPH_CASES(CTNN_RUN)
} // namespace ctnn::testing::graphs
