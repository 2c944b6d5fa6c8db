// Seed 000/002's adder, shared by lstm_addition and number_reader: the
// encoder-decoder model over "a+b" as text (a, b in 0..255, padded to 7
// characters, the sum to 3, alphabet "0123456789+ ") and its data, every pair
// shuffled with a tenth held out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace addition {

constexpr std::size_t question_length = 7, answer_length = 3, symbols = 12;
constexpr std::size_t units = 128;

// Encoder, repeat, decoder, per-step classifier: Keras's addition_rnn model.
template <template <std::size_t, bool> class Recurrent>
using Adder = ctnn::Sequential<ctnn::Input<question_length, symbols>, Recurrent<units, false>,
                               ctnn::RepeatVector<answer_length>, Recurrent<units, true>,
                               ctnn::TimeDistributed<ctnn::Dense<symbols>>, ctnn::Softmax>;
static_assert(Adder<ctnn::LSTM>::param_count == 205'324);

struct Addition {
    ctnn::data::CharCodec codec{"0123456789+ "};
    ctnn::data::Dataset train, held_out;
    std::vector<std::pair<int, int>> held_out_pairs;
};

inline std::string question(int a, int b) {
    return ctnn::data::pad_left(std::to_string(a) + "+" + std::to_string(b), question_length);
}

// All pairs, shuffled; the first tenth is held out.
inline Addition make_data(std::uint64_t seed) {
    Addition data;
    const ctnn::data::CharCodec& codec = data.codec;
    std::vector<int> pairs(256 * 256);
    std::iota(pairs.begin(), pairs.end(), 0);
    ctnn::Rng rng(seed);
    for (std::size_t i = pairs.size() - 1; i > 0; --i) std::swap(pairs[i], pairs[rng.below(i + 1)]);
    const std::size_t held = pairs.size() / 10;

    auto encode = [&](std::span<const int> chosen, std::vector<std::pair<int, int>>* kept) {
        ctnn::data::Dataset set{xt::zeros<float>({chosen.size(), question_length * symbols}),
                                xt::zeros<float>({chosen.size(), answer_length})};
        for (std::size_t n = 0; n < chosen.size(); ++n) {
            const int a = chosen[n] / 256, b = chosen[n] % 256;
            codec.one_hot(question(a, b), {set.inputs.data() + n * question_length * symbols,
                                           question_length * symbols});
            codec.indices(ctnn::data::pad_left(std::to_string(a + b), answer_length),
                          {set.targets.data() + n * answer_length, answer_length});
            if (kept) kept->emplace_back(a, b);
        }
        return set;
    };
    data.held_out = encode(std::span(pairs).first(held), &data.held_out_pairs);
    data.train = encode(std::span(pairs).subspan(held), nullptr);
    return data;
}

// The answer the adder gives to each question of a batch, as text.
template <class Net>
std::vector<std::string> answers(Net& net, const ctnn::data::CharCodec& codec, const xt::xtensor<float, 2>& questions) {
    const auto scores = ctnn::predict(net, questions);  // (n, answer_length, symbols)
    std::vector<std::string> out(questions.shape(0));
    for (std::size_t n = 0; n < out.size(); ++n)
        out[n] = codec.decode({scores.data() + n * answer_length * symbols, answer_length * symbols});
    return out;
}

} // namespace addition
