// Branches of different widths cannot be summed.
// expect: ctnn: Add sums several tensors of one shape (after Inputs, Shared or Parallel)
// expect-context: ctnn::Shapes<ctnn::Shape<8>, ctnn::Shape<4
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<16>, ctnn::Shape<16>>,
                             ctnn::Parallel<ctnn::Dense<8>, ctnn::Dense<4>>, ctnn::Add, ctnn::Dense<10>>;
void build() { Net net; }
