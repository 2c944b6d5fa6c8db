// An LSTM straight after an image input: it reads Shape<steps, features>.
// The message is the recurrent layers' shared one; the context names the
// cell, the units and the position.
// expect: ctnn: a recurrent layer (LSTM, GRU, SimpleRNN) needs a sequence input Shape<steps, features>
// expect-context: BoundLayer<1, ctnn::RecurrentLayer<ctnn::detail::LstmCell, 8
// expect-context: ctnn::Shape<1, 28, 28>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::LSTM<8>, ctnn::Dense<10>, ctnn::Softmax>;
static_assert(Net::param_count > 0);
