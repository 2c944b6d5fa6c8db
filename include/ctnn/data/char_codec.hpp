// A character codec for sequence models: text to one-hot rows over a fixed
// alphabet, and class-score rows back to text (the best-scoring character of
// each row). Texts are padded to a fixed length first, as sequence inputs
// have a fixed Shape<T, alphabet size>.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctnn::data {

class CharCodec {
public:
    // "0123456789+ ": each character its class index, in order.
    explicit CharCodec(std::string_view alphabet) : alphabet_(alphabet) {
        if (alphabet.empty()) throw std::invalid_argument("ctnn: CharCodec needs a non-empty alphabet");
        index_.fill(absent);
        for (std::size_t i = 0; i < alphabet.size(); ++i) {
            auto& slot = index_[static_cast<unsigned char>(alphabet[i])];
            if (slot != absent)
                throw std::invalid_argument(std::string("ctnn: CharCodec alphabet has '") +
                                            alphabet[i] + "' twice");
            slot = i;
        }
    }

    std::size_t size() const { return alphabet_.size(); }
    const std::string& alphabet() const { return alphabet_; }

    std::size_t index(char c) const {
        std::size_t i = index_[static_cast<unsigned char>(c)];
        if (i == absent)
            throw std::invalid_argument(std::string("ctnn: '") + c +
                                        "' is not in the CharCodec alphabet \"" + alphabet_ + "\"");
        return i;
    }

    // One row of size() values per character: 1 at its index, 0 elsewhere.
    // `out` must hold text.size() * size() values.
    void one_hot(std::string_view text, std::span<float> out) const {
        if (out.size() != text.size() * size())
            throw std::invalid_argument("ctnn: CharCodec::one_hot needs " +
                                        std::to_string(text.size() * size()) + " values for \"" +
                                        std::string(text) + "\", got " + std::to_string(out.size()));
        for (float& v : out) v = 0.0f;
        for (std::size_t t = 0; t < text.size(); ++t) out[t * size() + index(text[t])] = 1.0f;
    }

    // The class index of each character, as sparse targets.
    void indices(std::string_view text, std::span<float> out) const {
        if (out.size() != text.size())
            throw std::invalid_argument("ctnn: CharCodec::indices needs " +
                                        std::to_string(text.size()) + " values, got " +
                                        std::to_string(out.size()));
        for (std::size_t t = 0; t < text.size(); ++t) out[t] = float(index(text[t]));
    }

    // Rows of size() scores (one-hot rows, probabilities) back to text: the
    // character with the highest score in each row.
    std::string decode(std::span<const float> rows) const {
        if (rows.size() % size() != 0)
            throw std::invalid_argument("ctnn: CharCodec::decode got " + std::to_string(rows.size()) +
                                        " values, not whole rows of " + std::to_string(size()));
        std::string text;
        for (std::size_t r = 0; r < rows.size() / size(); ++r) {
            const float* row = rows.data() + r * size();
            std::size_t best = 0;
            for (std::size_t c = 1; c < size(); ++c)
                if (row[c] > row[best]) best = c;
            text += alphabet_[best];
        }
        return text;
    }

private:
    static constexpr std::size_t absent = ~std::size_t{0};
    std::string alphabet_;
    std::array<std::size_t, 256> index_;
};

// "10+20" padded to 7: "  10+20" (numbers read right-aligned).
inline std::string pad_left(std::string_view text, std::size_t length, char pad = ' ') {
    if (text.size() > length)
        throw std::invalid_argument("ctnn: \"" + std::string(text) + "\" is longer than " +
                                    std::to_string(length) + " characters");
    return std::string(length - text.size(), pad) + std::string(text);
}

// "30" padded to 3: "30 ".
inline std::string pad_right(std::string_view text, std::size_t length, char pad = ' ') {
    if (text.size() > length)
        throw std::invalid_argument("ctnn: \"" + std::string(text) + "\" is longer than " +
                                    std::to_string(length) + " characters");
    return std::string(text) + std::string(length - text.size(), pad);
}

} // namespace ctnn::data
