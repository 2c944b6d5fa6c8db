// A Dense layer straight after two inputs, with no merge or branch between.
// expect: ctnn: this layer takes one tensor but receives several (Shapes<...>): merge them first with Concatenate or Add, or apply it to each with Shared<...> or Parallel<...>
// expect-context: ctnn::Dense<10>
// expect-context: ctnn::Shapes<ctnn::Shape<16>, ctnn::Shape<8
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<16>, ctnn::Shape<8>>, ctnn::Dense<10>, ctnn::Softmax>;
void build() { Net net; }
