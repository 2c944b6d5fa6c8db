// A user-defined loss with a value but no gradient, given to fit().
// expect: ctnn: fit needs a loss (losses/loss.hpp lists what one provides)
// expect-context: MeanAbsoluteError
// expect-context: loss.gradient(backend, batch, out)
#include <ctnn/ctnn.hpp>

struct MeanAbsoluteError {
    static constexpr std::string_view name = "mean absolute error";
    template <class Backend>
    float value(const Backend&, const ctnn::LossBatch&) const {
        return 0.0f;
    }
};

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<2>>;

void train(Net& net, const ctnn::data::Dataset& data) {
    ctnn::fit(net, ctnn::SGD{}, MeanAbsoluteError{}, data);
}
