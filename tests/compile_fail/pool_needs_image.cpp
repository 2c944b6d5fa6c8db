// Pooling a flat input: MaxPool2D slides over height and width.
// expect: ctnn: 2-D pooling needs a Shape<channels, height, width> input
// expect-context: BoundLayer<1, ctnn::Pool2D<ctnn::detail::MaxWindow, 2, 2>
// expect-context: ctnn::Shape<784>
#include <ctnn/ctnn.hpp>
#include <ctnn/layers/pooling.hpp>

using Net = ctnn::Sequential<ctnn::Input<784>, ctnn::MaxPool2D<2>, ctnn::Dense<10>>;
static_assert(Net::param_count > 0);
