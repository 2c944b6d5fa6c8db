// expect: ctnn: Dense<0> has no outputs
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<0>>;
static_assert(Net::param_count == 0);
