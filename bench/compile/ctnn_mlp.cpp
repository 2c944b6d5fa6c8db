// The ctnn side of the compile-time comparison with dlib_mlp.cpp: the same
// program (784-250-10 tanh MLP with dropout, trained on MNIST, tested,
// summarised) without examples/mnist_mlp.cpp's plots, which pull in cairo's
// headers that the dlib program has no counterpart for. bench/run compiles
// it; it is not built or run otherwise.
#include <iostream>

#include <ctnn/ctnn.hpp>

using Mlp = ctnn::Sequential<ctnn::Input<784>, ctnn::Dense<250>, ctnn::Tanh, ctnn::Dropout,
                            ctnn::Dense<10>, ctnn::Softmax>;

int main(int argc, char** argv) {
    if (argc < 2) return 1;
    auto data = ctnn::data::load_mnist(argv[1]);
    Mlp net{ctnn::Seed{1}};
    ctnn::summary(net, std::cout);
    ctnn::fit(net, ctnn::RMSprop{1e-3f}, ctnn::CategoricalCrossEntropy{}, data.train,
              {.epochs = 150, .batch_size = 512, .validation = data.test});
    std::cout << "test accuracy: " << 100.0 * ctnn::evaluate(net, data.test).accuracy << "%\n";
}
