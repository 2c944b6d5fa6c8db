// TimeDistributed on a single vector: there are no steps to distribute over.
// expect: ctnn: TimeDistributed needs a sequence input Shape<steps, features...>
// expect-context: ctnn::TimeDistributed<ctnn::Dense<4>
// expect-context: ctnn::Shape<16>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<16>, ctnn::TimeDistributed<ctnn::Dense<4>>, ctnn::Softmax>;
static_assert(Net::param_count > 0);
