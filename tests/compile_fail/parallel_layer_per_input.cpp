// Three branches for two inputs.
// expect: ctnn: Parallel applies its k-th layer to the k-th input, so it needs as many layers as inputs
// expect-context: ctnn::Shapes<ctnn::Shape<16>, ctnn::Shape<8
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<16>, ctnn::Shape<8>>,
                             ctnn::Parallel<ctnn::Dense<4>, ctnn::Dense<4>, ctnn::Dense<4>>, ctnn::Concatenate,
                             ctnn::Dense<10>>;
void build() { Net net; }
