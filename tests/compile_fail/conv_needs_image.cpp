// A convolution straight after a flat input.
// expect: ctnn: Conv2D needs a Shape<channels, height, width> input
// expect-context: ctnn::Shape<784>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<784>, ctnn::Conv2D<8, 3>, ctnn::Flatten, ctnn::Dense<10>>;
static_assert(Net::param_count > 0);
