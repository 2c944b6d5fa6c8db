// libFuzzer target: CharCodec. The first byte says how long the alphabet is;
// the rest is text to encode, then decode. Only std::invalid_argument may
// escape (a duplicate in the alphabet, a character outside it); a text that
// encodes must decode back to itself, through one-hot rows and indices, and
// the same bytes read as scores must decode to characters of the alphabet.
#include <cstdlib>
#include <cstring>
#include <vector>

#include <ctnn/data/char_codec.hpp>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t alphabet_size = std::min<std::size_t>(data[0], size - 1);
    const std::string_view alphabet(reinterpret_cast<const char*>(data + 1), alphabet_size);
    const std::string_view text(reinterpret_cast<const char*>(data + 1 + alphabet_size), size - 1 - alphabet_size);
    try {
        const ctnn::data::CharCodec codec(alphabet);
        const std::string padded = ctnn::data::pad_left(text, text.size() + 2, alphabet[0]);
        std::vector<float> rows(padded.size() * codec.size());
        codec.one_hot(padded, rows);
        if (codec.decode(rows) != padded) std::abort();
        std::vector<float> indices(padded.size());
        codec.indices(padded, indices);
        for (std::size_t t = 0; t < padded.size(); ++t)
            if (codec.alphabet()[std::size_t(indices[t])] != padded[t]) std::abort();
        // Scores of any value, NaN and infinities included, decode to one
        // character of the alphabet per whole row.
        std::vector<float> scores(text.size() / sizeof(float));
        if (!scores.empty()) std::memcpy(scores.data(), text.data(), scores.size() * sizeof(float));
        scores.resize(scores.size() / codec.size() * codec.size());
        const std::string decoded = codec.decode(scores);
        if (decoded.size() != scores.size() / codec.size()) std::abort();
        for (char c : decoded)
            if (codec.alphabet().find(c) == std::string::npos) std::abort();
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
