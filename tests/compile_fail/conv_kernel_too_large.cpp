// An 8x8 kernel on a 5x5 image padded by one on each side (7x7).
// expect: ctnn: Conv2D's kernel is larger than its (padded) input
// expect-context: ctnn::Shape<3, 5, 5>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<3, 5, 5>, ctnn::Conv2D<8, 8, 1, 1>, ctnn::Flatten>;
static_assert(Net::param_count > 0);
