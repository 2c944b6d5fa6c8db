// A Dense layer straight after a convolution-shaped input, without Flatten.
// expect: ctnn: Dense needs a rank-1 input; insert ctnn::Flatten before it
// expect-context: ctnn::Dense<10>
// expect-context: ctnn::Shape<32, 12, 12>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<32, 12, 12>, ctnn::ReLU, ctnn::Dense<10>, ctnn::Softmax>;
static_assert(Net::param_count > 0);
