// Images of two sizes cannot be stacked along their channels.
// expect: ctnn: Concatenate joins vectors, or images of one size along their channels: its inputs must agree in every extent after the first (Flatten them first)
// expect-context: ctnn::Shapes<ctnn::Shape<4, 12, 12>, ctnn::Shape<4, 10, 10
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<1, 14, 14>, ctnn::Shape<1, 12, 12>>,
                             ctnn::Parallel<ctnn::Conv2D<4, 3>, ctnn::Conv2D<4, 3>>, ctnn::Concatenate,
                             ctnn::Flatten, ctnn::Dense<10>>;
void build() { Net net; }
