// RepeatVector after an LSTM that returns its whole sequence.
// expect: ctnn: RepeatVector needs a rank-1 input (a vector to repeat)
// expect-context: ctnn::Shape<7, 32>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::LSTM<32, true>, ctnn::RepeatVector<3>,
                             ctnn::LSTM<32, true>>;
static_assert(Net::param_count > 0);
