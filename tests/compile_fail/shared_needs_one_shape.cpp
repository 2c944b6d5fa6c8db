// One set of weights cannot take an image and a vector.
// expect: ctnn: Shared applies one set of weights to each input, so its inputs need one shape; give inputs of different shapes their own weights with Parallel<...>
// expect-context: ctnn::Shapes<ctnn::Shape<1, 28, 84>, ctnn::Shape<1, 28, 28
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<1, 28, 84>, ctnn::Shape<1, 28, 28>>,
                             ctnn::Shared<ctnn::Conv2D<8, 3>, ctnn::Flatten, ctnn::Dense<16>>, ctnn::Concatenate,
                             ctnn::Dense<10>>;
void build() { Net net; }
