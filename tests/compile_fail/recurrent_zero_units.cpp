// A GRU without units.
// expect: ctnn: GRU<0> has no units
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::GRU<0>>;
static_assert(Net::param_count == 0);
