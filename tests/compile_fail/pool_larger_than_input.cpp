// A 5x5 window cannot fit in a 4x4 image ("valid" pooling, no padding).
// expect: ctnn: the pooling window is larger than its input
// expect-context: BoundLayer<1, ctnn::Pool2D<ctnn::detail::MaxWindow, 5, 5>
// expect-context: ctnn::Shape<1, 4, 4>
#include <ctnn/ctnn.hpp>
#include <ctnn/layers/pooling.hpp>

using Net = ctnn::Sequential<ctnn::Input<1, 4, 4>, ctnn::MaxPool2D<5>, ctnn::Flatten, ctnn::Dense<10>>;
static_assert(Net::param_count > 0);
