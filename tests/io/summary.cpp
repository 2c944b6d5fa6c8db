#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include <ctnn/ctnn.hpp>

namespace io_summary_test {

// The summary line that starts with `prefix`, without its repeated spaces.
std::string row(const std::string& text, const std::string& prefix) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(prefix, 0) != 0) continue;
        std::string squeezed;
        for (char c : line)
            if (c != ' ' || squeezed.empty() || squeezed.back() != ' ') squeezed += c;
        return squeezed;
    }
    return "(no row " + prefix + ")";
}

TEST_CASE("summary: Keras-style table with names, output shapes and parameter counts") {
    using Mlp = ctnn::Sequential<ctnn::Input<784>, ctnn::Dense<250>, ctnn::Tanh, ctnn::Dropout,
                                 ctnn::Dense<10>, ctnn::Softmax>;
    std::ostringstream out;
    ctnn::summary(Mlp{}, out);
    const std::string text = out.str();
    CHECK(row(text, " dense (Dense)") == " dense (Dense) (None, 250) 196,250");
    CHECK(row(text, " tanh (Tanh)") == " tanh (Tanh) (None, 250) 0");
    CHECK(row(text, " dropout (Dropout)") == " dropout (Dropout) (None, 250) 0");
    CHECK(row(text, " dense_1 (Dense)") == " dense_1 (Dense) (None, 10) 2,510");
    CHECK(row(text, " softmax (Softmax)") == " softmax (Softmax) (None, 10) 0");
    CHECK(text.find("Total params: 198,760") != std::string::npos);
}

TEST_CASE("summary: seed 003's deep MLP has 116,285 parameters") {
    using DeepMlp = ctnn::Sequential<ctnn::Input<784>, ctnn::Dense<125>, ctnn::ReLU, ctnn::Dense<100>,
                                     ctnn::ReLU, ctnn::Dense<50>, ctnn::ReLU, ctnn::Dense<10>, ctnn::Softmax>;
    std::ostringstream out;
    ctnn::summary(DeepMlp{}, out);
    CHECK(out.str().find("Total params: 116,285") != std::string::npos);
    CHECK(out.str().find(" re_lu_2 (ReLU)") != std::string::npos);
}

TEST_CASE("summary: Keras's snake_case layer names") {
    CHECK(ctnn::detail::snake_case("LeakyReLU") == "leaky_re_lu");
    CHECK(ctnn::detail::snake_case("GaussianNoise") == "gaussian_noise");
    CHECK(ctnn::detail::snake_case("Dense") == "dense");
}

TEST_CASE("summary: seed 001's small Fashion-MNIST CNN has 7,465 parameters; BatchNorm's running statistics are non-trainable") {
    using SmallCnn = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::Conv2D<9, 5, 1, ctnn::same>, ctnn::ReLU,
                                      ctnn::MaxPool2D<2>, ctnn::Conv2D<9, 5, 1, ctnn::same>, ctnn::ReLU,
                                      ctnn::MaxPool2D<2>, ctnn::Conv2D<16, 3, 1, ctnn::same>, ctnn::ReLU,
                                      ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<25>, ctnn::ReLU,
                                      ctnn::Dense<10>, ctnn::Softmax>;
    std::ostringstream out;
    ctnn::summary(SmallCnn{}, out);
    CHECK(out.str().find("Total params: 7,465") != std::string::npos);

    using Normalised = ctnn::Sequential<ctnn::Input<3, 4, 4>, ctnn::BatchNorm, ctnn::Flatten, ctnn::Dense<2>>;
    std::ostringstream bn;
    ctnn::summary(Normalised{}, bn);
    const std::string text = bn.str();
    CHECK(row(text, " batch_normalization (BatchNormalization)") == " batch_normalization (BatchNormalization) (None, 3, 4, 4) 12");
    CHECK(text.find("Total params: 110") != std::string::npos);
    CHECK(text.find("Trainable params: 104") != std::string::npos);
    CHECK(text.find("Non-trainable params: 6") != std::string::npos);
}

TEST_CASE("summary: a network with two inputs shows them, and each branch's layers below it") {
    using Reader = ctnn::Branch<ctnn::Conv2D<4, 3>, ctnn::ReLU, ctnn::Flatten, ctnn::Dense<8>>;
    using Siamese = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<1, 6, 6>, ctnn::Shape<1, 6, 6>>, ctnn::Shared<Reader>,
                                     ctnn::Concatenate, ctnn::Dense<2>, ctnn::Softmax>;
    std::ostringstream out;
    ctnn::summary(Siamese{}, out);
    const std::string text = out.str();
    CHECK(text.find("Model: \"functional\"") != std::string::npos);
    CHECK(row(text, " inputs (Inputs)") == " inputs (Inputs) [(None, 1, 6, 6), (None, 1, 6, 6)] 0");
    CHECK(row(text, " shared (Shared)") == " shared (Shared) [(None, 8), (None, 8)] 560");
    CHECK(row(text, "   | branch (Branch)") == " | branch (Branch) (None, 8) 560");
    CHECK(row(text, "     | conv2d (Conv2D)") == " | conv2d (Conv2D) (None, 4, 4, 4) 40");
    CHECK(row(text, "     | dense (Dense)") == " | dense (Dense) (None, 8) 520");
    CHECK(row(text, " concatenate (Concatenate)") == " concatenate (Concatenate) (None, 16) 0");
    CHECK(row(text, " dense_1 (Dense)") == " dense_1 (Dense) (None, 2) 34");
    CHECK(text.find("Total params: 594") != std::string::npos);
}

} // namespace io_summary_test
