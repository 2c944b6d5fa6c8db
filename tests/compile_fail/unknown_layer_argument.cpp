// Two Dropout settings for a network with one Dropout layer.
// expect: ctnn: more constructor arguments of a layer type than layers of that type
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<3>, ctnn::Dropout, ctnn::Dense<2>>;
Net net{ctnn::Dropout{0.5f}, ctnn::Dropout{0.2f}};
