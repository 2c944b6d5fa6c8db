#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include <ctnn/data/char_codec.hpp>

namespace data_char_codec_test {

TEST_CASE("CharCodec: one-hot rows and class indices in alphabet order") {
    ctnn::data::CharCodec codec("0123456789+ ");
    CHECK(codec.size() == 12);
    CHECK(codec.index('0') == 0);
    CHECK(codec.index('+') == 10);
    CHECK(codec.index(' ') == 11);

    std::vector<float> rows(3 * 12, 7.0f);
    codec.one_hot(" 1+", rows);
    std::vector<float> expected(3 * 12, 0.0f);
    expected[0 * 12 + 11] = expected[1 * 12 + 1] = expected[2 * 12 + 10] = 1.0f;
    CHECK(rows == expected);

    std::vector<float> indices(3);
    codec.indices("42 ", indices);
    CHECK(indices == std::vector<float>{4, 2, 11});
}

TEST_CASE("CharCodec: decode takes each row's best-scoring character") {
    ctnn::data::CharCodec codec("ab ");
    std::vector<float> scores{0.1f, 0.7f, 0.2f,  0.5f, 0.2f, 0.3f,  0.0f, 0.1f, 0.9f};
    CHECK(codec.decode(scores) == "ba ");

    std::vector<float> rows(4 * 3);
    codec.one_hot("a b ", rows);
    CHECK(codec.decode(rows) == "a b ");
}

TEST_CASE("CharCodec: padding, and the errors it reports") {
    CHECK(ctnn::data::pad_left("10+20", 7) == "  10+20");
    CHECK(ctnn::data::pad_right("30", 3) == "30 ");
    CHECK(ctnn::data::pad_left("abc", 3, '_') == "abc");
    CHECK_THROWS_AS(ctnn::data::pad_left("1234", 3), std::invalid_argument);

    CHECK_THROWS_AS(ctnn::data::CharCodec(""), std::invalid_argument);
    CHECK_THROWS_WITH(ctnn::data::CharCodec("abca"), "ctnn: CharCodec alphabet has 'a' twice");
    ctnn::data::CharCodec codec("01");
    CHECK_THROWS_WITH(codec.index('2'), "ctnn: '2' is not in the CharCodec alphabet \"01\"");
    std::vector<float> wrong(3);
    CHECK_THROWS_AS(codec.one_hot("01", wrong), std::invalid_argument);
    CHECK_THROWS_AS(codec.decode(wrong), std::invalid_argument);
}

} // namespace data_char_codec_test
