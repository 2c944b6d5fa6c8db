// An LSTM given h but not c.
// expect: ctnn: a recurrent layer takes its initial state as Shapes<Shape<steps, features>, Shape<units>> (LSTM: Shapes<Shape<steps, features>, Shape<units>, Shape<units>>, h then c)
// expect-context: ctnn::Shapes<ctnn::Shape<5, 3>, ctnn::Shape<8>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<5, 3>, ctnn::Shape<8>>, ctnn::LSTM<8>, ctnn::Dense<2>>;
void build() { Net net; }
