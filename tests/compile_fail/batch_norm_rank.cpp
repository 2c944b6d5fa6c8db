// BatchNorm on a rank-4 input: no layer in ctnn produces one, and which axis
// holds the channels would be a guess.
// expect: ctnn: BatchNorm needs a rank-1 (features), rank-2 (steps, features) or rank-3 (channels, height, width) input
// expect-context: ctnn::Shape<1, 2, 3, 4>
#include <ctnn/ctnn.hpp>
#include <ctnn/layers/batch_norm.hpp>

using Net = ctnn::Sequential<ctnn::Input<1, 2, 3, 4>, ctnn::BatchNorm, ctnn::Flatten, ctnn::Dense<2>>;
static_assert(Net::param_count > 0);
