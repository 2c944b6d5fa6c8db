// An LSTM straight after an image input: it reads Shape<steps, features>.
// expect: ctnn: LSTM needs a sequence input Shape<steps, features>
// expect-context: ctnn::LSTM<8
// expect-context: ctnn::Shape<1, 28, 28>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::LSTM<8>, ctnn::Dense<10>, ctnn::Softmax>;
static_assert(Net::param_count > 0);
