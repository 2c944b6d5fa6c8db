// A GRU without units.
// expect: ctnn: a recurrent layer (LSTM, GRU, SimpleRNN) needs at least one unit
// expect-context: BoundLayer<1, ctnn::RecurrentLayer<ctnn::detail::GruCell, 0
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::GRU<0>>;
static_assert(Net::param_count == 0);
