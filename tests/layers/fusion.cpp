// The fused groups (layers/fusion_rules.hpp): each computes what its layers
// compute one by one, its gradients are right in training and at inference,
// and a BatchNorm folded into a group follows changes of its weights and
// running statistics. RepeatVector and a recurrent layer after it likewise.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/layers/activations.hpp>
#include <ctnn/layers/batch_norm.hpp>
#include <ctnn/layers/conv2d.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/flatten.hpp>
#include <ctnn/layers/gru.hpp>
#include <ctnn/layers/lstm.hpp>
#include <ctnn/layers/pooling.hpp>
#include <ctnn/layers/repeat_vector.hpp>
#include <ctnn/layers/simple_rnn.hpp>
#include <ctnn/layers/softmax.hpp>
#include <ctnn/layers/time_distributed.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/fusion_check.hpp"
#include "support/layer_stack.hpp"

namespace layers_fusion_test {

using ctnn::Shape;
using ctnn::testing::check_fused_matches_unfused;
using ctnn::testing::FusionCheck;

// Conv2D + ReLU + MaxPool2D is one pass when fused, three when not; so is
// Conv2D + MaxPool2D without an activation.
using ConvPool = ctnn::Sequential<ctnn::Input<2, 9, 9>, ctnn::Conv2D<4, 3>, ctnn::ReLU,
                                  ctnn::MaxPool2D<3, 2>, ctnn::Conv2D<3, 2, 1, ctnn::same>,
                                  ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>>;
static_assert(ConvPool::pass_count == 4);
static_assert(ConvPool::unfused::pass_count == 7);
static_assert(std::is_same_v<ConvPool::output_shape, Shape<3>>);

// Conv2D + BatchNorm + ReLU, and the same with MaxPool2D after it.
using ConvNorm = ctnn::Sequential<ctnn::Input<2, 6, 6>, ctnn::Conv2D<4, 3, 1, ctnn::same>, ctnn::BatchNorm,
                                  ctnn::ReLU, ctnn::Flatten, ctnn::Dense<3>>;
static_assert(ConvNorm::pass_count == 3);
static_assert(ConvNorm::unfused::pass_count == 5);
using ConvNormPool = ctnn::Sequential<ctnn::Input<2, 6, 6>, ctnn::Conv2D<4, 3, 1, ctnn::same>, ctnn::BatchNorm,
                                      ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>>;
static_assert(ConvNormPool::pass_count == 3);
static_assert(ConvNormPool::unfused::pass_count == 6);
static_assert(ConvNormPool::param_count == (4 * 2 * 9 + 4) + 2 * 4 + (36 * 3 + 3));

// The first block of fashion_cnn's better model is one pass.
using FashionBlock = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::Conv2D<32, 3, 1, ctnn::same>,
                                      ctnn::BatchNorm, ctnn::ReLU, ctnn::MaxPool2D<2>>;
static_assert(FashionBlock::pass_count == 1);
static_assert(FashionBlock::unfused::pass_count == 4);

using DenseNorm = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<5>, ctnn::BatchNorm, ctnn::ReLU, ctnn::Dense<3>>;
static_assert(DenseNorm::pass_count == 2);
static_assert(DenseNorm::unfused::pass_count == 4);

using DenseSoftmax = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<4>, ctnn::Softmax>;
static_assert(DenseSoftmax::pass_count == 1);
static_assert(std::is_same_v<DenseSoftmax::output_layer, ctnn::Softmax>, "cross-entropy still folds into it");

using StepSoftmax = ctnn::Sequential<ctnn::Input<5, 8>, ctnn::TimeDistributed<ctnn::Dense<3>>, ctnn::Softmax>;
static_assert(StepSoftmax::pass_count == 1);

// RepeatVector + a recurrent layer is one pass: the vector's input
// projection once per sample, not once per step. After a Dense layer (dx
// needed) with every step returned, and as a first layer with a GRU (its
// recurrent projection kept apart).
using RepeatLstm = ctnn::Sequential<ctnn::Input<5>, ctnn::Dense<6>, ctnn::RepeatVector<3>, ctnn::LSTM<4, true>,
                                    ctnn::TimeDistributed<ctnn::Dense<2>>>;
static_assert(RepeatLstm::pass_count == 3);
static_assert(RepeatLstm::unfused::pass_count == 4);
using RepeatGru = ctnn::Sequential<ctnn::Input<5>, ctnn::RepeatVector<4>, ctnn::GRU<3>, ctnn::Dense<2>>;
static_assert(RepeatGru::pass_count == 2);
static_assert(RepeatGru::unfused::pass_count == 3);

template <class Net, class Backend>
using on = typename Net::template on<Backend>;

// Finite differences through one fused group, in training (BatchNorm with
// the batch's statistics) and at inference (with the running ones).
template <class Backend, class In, class... Layers>
void check_group_gradients(ctnn::testing::GradientCheck options, const Layers&... layers) {
    static_assert(ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, Layers...>::pass_count == 1,
                  "the layers run as one group");
    ctnn::testing::check_gradients<Backend, In>(options, layers...);
    options.context = ctnn::Context{};
    ctnn::testing::check_gradients<Backend, In>(options, layers...);
}

// The outputs for x of a network or a layer list, copied.
template <class Layers>
std::vector<float> outputs(Layers& layers, const std::vector<float>& x, std::size_t batch) {
    const auto y = layers.forward(x, batch);
    return {y.begin(), y.end()};
}

void check_same(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("fusion: Conv2D + ReLU + MaxPool2D and Conv2D + MaxPool2D compute what their layers do",
                   Backend, CTNN_TEST_BACKENDS) {
    // Odd batches, and one sample, which the CPU's convolution runs by filter.
    check_fused_matches_unfused<on<ConvPool, Backend>>({.training_batch = 9, .inference_batches = {9, 1}});
    check_fused_matches_unfused<on<ConvPool, Backend>>({.training_batch = 1, .inference_batches = {}});
}

TEST_CASE_TEMPLATE("fusion: Conv2D + BatchNorm + ReLU [+ MaxPool2D] compute what their layers do", Backend,
                   CTNN_TEST_BACKENDS) {
    const ctnn::BatchNorm norm{.momentum = 0.5f};  // running statistics move fast
    check_fused_matches_unfused<on<ConvNorm, Backend>>({}, norm);
    check_fused_matches_unfused<on<ConvNormPool, Backend>>({}, norm);
    // Smaller batches: the block is large.
    check_fused_matches_unfused<on<FashionBlock, Backend>>({.training_batch = 4, .inference_batches = {3, 1}},
                                                           norm);
}

TEST_CASE_TEMPLATE("fusion: Dense + BatchNorm + ReLU computes what its layers do",
                   Backend, CTNN_TEST_BACKENDS) {
    check_fused_matches_unfused<on<DenseNorm, Backend>>({}, ctnn::BatchNorm{.momentum = 0.5f});
}

TEST_CASE_TEMPLATE("fusion: Dense + Softmax and TimeDistributed<Dense> + Softmax compute what their layers do",
                   Backend, CTNN_TEST_BACKENDS) {
    check_fused_matches_unfused<on<DenseSoftmax, Backend>>({});
    check_fused_matches_unfused<on<StepSoftmax, Backend>>({});
}

TEST_CASE_TEMPLATE("fusion: gradients through Conv2D + activation + MaxPool2D, overlapping windows, padding",
                   Backend, CTNN_TEST_BACKENDS) {
    check_group_gradients<Backend, Shape<2, 6, 6>>({}, ctnn::Conv2D<3, 3>{}, ctnn::Tanh{},
                                                   ctnn::MaxPool2D<2>{});
    // A smaller step keeps the probes on one side of ReLU's kink and of a
    // window's maximum.
    check_group_gradients<Backend, Shape<2, 6, 6>>({.step = 1e-3f}, ctnn::Conv2D<3, 3>{},
                                                   ctnn::ReLU{}, ctnn::MaxPool2D<2>{});
    // 3/2 windows share their edges: a maximum there takes two gradients.
    check_group_gradients<Backend, Shape<1, 7, 7>>({}, ctnn::Conv2D<2, 3, 1, 1>{}, ctnn::MaxPool2D<3, 2>{});
}

TEST_CASE_TEMPLATE("fusion: gradients through Conv2D + BatchNorm + activation [+ MaxPool2D]", Backend,
                   CTNN_TEST_BACKENDS) {
    check_group_gradients<Backend, Shape<2, 5, 5>>({.batch = 3}, ctnn::Conv2D<3, 3>{}, ctnn::BatchNorm{},
                                                   ctnn::Tanh{});
    // The default seed draws a near-tie inside a pooling window, which a
    // probe of 1e-3 moves to another cell; seed 8 draws none.
    check_group_gradients<Backend, Shape<2, 6, 6>>({.batch = 2, .step = 1e-3f, .seed = 8},
                                                   ctnn::Conv2D<3, 3, 1, ctnn::same>{}, ctnn::BatchNorm{},
                                                   ctnn::ReLU{}, ctnn::MaxPool2D<2>{});
}

TEST_CASE_TEMPLATE("fusion: gradients through Dense + BatchNorm + ReLU, [TimeDistributed<]Dense[>] + Softmax",
                   Backend, CTNN_TEST_BACKENDS) {
    check_group_gradients<Backend, Shape<6>>({.batch = 4, .step = 1e-3f}, ctnn::Dense<5>{},
                                             ctnn::BatchNorm{}, ctnn::ReLU{});
    check_group_gradients<Backend, Shape<6>>({}, ctnn::Dense<4>{}, ctnn::Softmax{});
    check_group_gradients<Backend, Shape<4, 5>>({}, ctnn::TimeDistributed<ctnn::Dense<3>>{}, ctnn::Softmax{});
}

TEST_CASE_TEMPLATE("fusion: RepeatVector + LSTM, GRU or SimpleRNN computes what its layers do", Backend,
                   CTNN_TEST_BACKENDS) {
    check_fused_matches_unfused<on<RepeatLstm, Backend>>({.training_batch = 5, .inference_batches = {5, 1}});
    check_fused_matches_unfused<on<RepeatGru, Backend>>({});
    check_group_gradients<Backend, Shape<5>>({}, ctnn::RepeatVector<3>{}, ctnn::LSTM<4, true>{});
    check_group_gradients<Backend, Shape<5>>({}, ctnn::RepeatVector<4>{}, ctnn::GRU<3>{});
    check_group_gradients<Backend, Shape<5>>({}, ctnn::RepeatVector<2>{}, ctnn::SimpleRNN<3, true>{});
}

TEST_CASE_TEMPLATE("fusion: Dense + Softmax hands a folded cross-entropy gradient straight to the Dense layer",
                   Backend, CTNN_TEST_BACKENDS) {
    using In = Shape<6>;
    ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, ctnn::Dense<4>, ctnn::Softmax> fused(
        ctnn::Dense<4>{}, ctnn::Softmax{});
    ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, ctnn::Dense<4>> dense(ctnn::Dense<4>{});
    ctnn::Rng rng(2);
    const auto params = ctnn::testing::random_values(dense.param_count, rng);
    const auto x = ctnn::testing::random_values(3 * In::size, rng);
    const auto dz = ctnn::testing::random_values(3 * 4, rng);  // d(loss)/d(logits), as p - t
    std::copy(params.begin(), params.end(), fused.params().begin());
    std::copy(params.begin(), params.end(), dense.params().begin());
    fused.forward(x, 3);
    dense.forward(x, 3);
    const auto dx_fused = fused.backward(dz, 3, {}, true, ctnn::OutputGradient::of_folded_activation);
    const std::vector<float> fused_dx(dx_fused.begin(), dx_fused.end());
    const auto dx_dense = dense.backward(dz, 3);
    for (std::size_t i = 0; i < fused_dx.size(); ++i) CHECK(fused_dx[i] == doctest::Approx(dx_dense[i]));
    for (std::size_t i = 0; i < params.size(); ++i)
        CHECK(fused.grads()[i] == doctest::Approx(dense.grads()[i]));
}

TEST_CASE_TEMPLATE("fusion: running statistics are the state, in layer order, inside fused groups too", Backend,
                   CTNN_TEST_BACKENDS) {
    // A Conv2D+BatchNorm+ReLU group, then a Dense+BatchNorm one.
    using Mixed = on<ctnn::Sequential<ctnn::Input<1, 4, 4>, ctnn::Conv2D<2, 3>, ctnn::BatchNorm, ctnn::ReLU,
                                      ctnn::Flatten, ctnn::Dense<3>, ctnn::BatchNorm>,
                     Backend>;
    static_assert(Mixed::pass_count == 3);
    auto state = [](const auto& net) { return std::vector<float>(net.state().begin(), net.state().end()); };
    Mixed fused{ctnn::Seed{2}};
    typename Mixed::unfused unfused{ctnn::Seed{2}};
    // Each BatchNorm's moving mean, then its moving variance.
    CHECK((state(fused) == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 1, 1}));
    ctnn::Rng rng(3);
    const auto x = ctnn::testing::random_values(4 * 16, rng);
    const ctnn::Context training{ctnn::Mode::training, 1, 0, 0};
    fused.forward(x, 4, training);
    unfused.forward(x, 4, training);
    const auto a = state(fused), b = state(unfused);
    REQUIRE(a.size() == 10);
    CHECK(a[0] != 0.0f);
    CHECK(a[9] != 1.0f);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]));
}

TEST_CASE_TEMPLATE("fusion: a folded BatchNorm follows new gamma and running variance in a network", Backend,
                   CTNN_TEST_BACKENDS) {
    // At inference the group caches gamma / sqrt(variance + epsilon); taking
    // writable parameters() or state() must invalidate that cache.
    using Net = on<ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<3>, ctnn::BatchNorm>, Backend>;
    static_assert(Net::pass_count == 1);
    Net fused{ctnn::Seed{1}};
    typename Net::unfused unfused{ctnn::Seed{1}};
    ctnn::Rng rng(4);
    const auto x = ctnn::testing::random_values(2 * 4, rng);
    const auto before = outputs(fused, x, 2);
    check_same(before, outputs(unfused, x, 2));

    // gamma of channel 1 follows the kernel (4 * 3), the bias (3) and gamma 0.
    fused.parameters()[4 * 3 + 3 + 1] = 2.5f;
    unfused.parameters()[4 * 3 + 3 + 1] = 2.5f;
    const auto new_gamma = outputs(fused, x, 2);
    CHECK(new_gamma[1] != doctest::Approx(before[1]));
    check_same(new_gamma, outputs(unfused, x, 2));

    // The moving variance of channel 2 follows the three moving means.
    fused.state()[3 + 2] = 4.0f;
    unfused.state()[3 + 2] = 4.0f;
    const auto new_variance = outputs(fused, x, 2);
    CHECK(new_variance[2] != doctest::Approx(new_gamma[2]));
    check_same(new_variance, outputs(unfused, x, 2));
}

TEST_CASE_TEMPLATE("fusion: a folded BatchNorm follows new gamma and running variance after touch()", Backend,
                   CTNN_TEST_BACKENDS) {
    // The same on a convolution's planes, through a layer list that is told
    // when its arrays changed.
    using In = Shape<2, 4, 4>;
    using Conv = ctnn::Conv2D<3, 3>;
    using Group = ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, Conv, ctnn::BatchNorm>;
    using Layers = ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::unfused, Conv, ctnn::BatchNorm>;
    static_assert(Group::pass_count == 1);
    Group fused(Conv{}, ctnn::BatchNorm{});
    Layers unfused(Conv{}, ctnn::BatchNorm{});
    fused.initialize(3);
    unfused.initialize(3);
    ctnn::Rng rng(5);
    const auto x = ctnn::testing::random_values(2 * In::size, rng);
    const auto before = outputs(fused, x, 2);
    check_same(before, outputs(unfused, x, 2));

    // gamma follows the kernel (3 * 2 * 9) and the bias (3); channel 0's
    // output plane is values 0-3.
    constexpr std::size_t gamma = 3 * 2 * 9 + 3;
    fused.params()[gamma] = -1.5f;
    unfused.params()[gamma] = -1.5f;
    fused.touch();
    unfused.touch();
    const auto new_gamma = outputs(fused, x, 2);
    CHECK(new_gamma[0] != doctest::Approx(before[0]));
    check_same(new_gamma, outputs(unfused, x, 2));

    // Channel 1's moving variance; its output plane is values 4-7.
    fused.state()[3 + 1] = 9.0f;
    unfused.state()[3 + 1] = 9.0f;
    fused.touch();
    unfused.touch();
    const auto new_variance = outputs(fused, x, 2);
    CHECK(new_variance[4] != doctest::Approx(new_gamma[4]));
    check_same(new_variance, outputs(unfused, x, 2));
}

} // namespace layers_fusion_test
