// A user-defined optimizer with a learning rate but no step, given to fit().
// expect: ctnn: fit needs an optimizer (optimizers/optimizer.hpp lists what one provides)
// expect-context: Frozen
// expect-context: optimizer.step(backend, parameters)
#include <ctnn/ctnn.hpp>

struct Frozen {
    static constexpr std::string_view type_name = "Frozen";
    float learning_rate = 0.0f;
};

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<2>>;

void train(Net& net, const ctnn::data::Dataset& data) {
    ctnn::fit(net, Frozen{}, ctnn::MeanSquaredError{}, data);
}
