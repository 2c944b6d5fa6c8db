// A reader's flat outputs are not digits: SumOfNumbers needs Shape<digits, 10>.
// expect: ctnn: SumOfNumbers adds two numbers of 1 to 4 digits, each read as Shape<digits, 10>
// expect-context: ctnn::Shapes<ctnn::Shape<30>, ctnn::Shape<30>
#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<16>, ctnn::Shape<16>>, ctnn::Shared<ctnn::Dense<30>>,
                             ctnn::SumOfNumbers, ctnn::Softmax>;
void build() { Net net; }
