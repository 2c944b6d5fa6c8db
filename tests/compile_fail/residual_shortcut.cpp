// A valid 3x3 convolution shrinks 6x6 to 4x4: no integer stride maps one onto the other.
// expect: ctnn: Residual's body changes its input's shape in a way no shortcut can follow
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<8, 6, 6>, ctnn::Residual<ctnn::Conv2D<8, 3>>, ctnn::Flatten>;
static_assert(Net::param_count > 0);
