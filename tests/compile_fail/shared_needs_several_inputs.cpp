// Shared on a network with one input.
// expect: ctnn: Shared applies its layers to each of several inputs, but receives one tensor
// expect-context: ctnn::Shape<16>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<16>, ctnn::Shared<ctnn::Dense<8>>, ctnn::Dense<10>>;
void build() { Net net; }
