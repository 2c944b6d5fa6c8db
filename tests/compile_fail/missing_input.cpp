// A Sequential must say its input shape first.
// expect: ctnn: a Sequential starts with ctnn::Input<dims...>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Dense<10>, ctnn::Softmax>;
static_assert(sizeof(Net) > 0);
