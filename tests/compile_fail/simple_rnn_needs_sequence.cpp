// A SimpleRNN on a flat vector: it needs RepeatVector (or a sequence) first.
// expect: ctnn: a recurrent layer (LSTM, GRU, SimpleRNN) needs a sequence input Shape<steps, features>
// expect-context: BoundLayer<1, ctnn::RecurrentLayer<ctnn::detail::SimpleRnnCell, 16
// expect-context: ctnn::Shape<12>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<12>, ctnn::SimpleRNN<16>>;
static_assert(Net::param_count > 0);
