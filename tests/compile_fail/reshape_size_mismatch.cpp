// Reshape to a shape that does not hold the input's values: 33 into 3 x 12.
// expect: ctnn: Reshape's shape must hold exactly its input's values
// expect-context: ctnn::Reshape<3, 12>
// expect-context: ctnn::Shape<33>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<8>, ctnn::Dense<33>, ctnn::Reshape<3, 12>, ctnn::Softmax>;
static_assert(Net::param_count > 0);
