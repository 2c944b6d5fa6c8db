// The dlib program equivalent to ctnn_mlp.cpp (examples/mnist_mlp.cpp), for comparing compile
// times only (bench/run compiles it; it is not built or run otherwise):
// 784-250-10 tanh MLP with dropout, trained on MNIST, tested, summarised.
#include <dlib/data_io.h>
#include <dlib/dnn.h>

#include <iostream>
#include <vector>

using Mlp = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::dropout<dlib::htan<dlib::fc<250, dlib::input<dlib::matrix<unsigned char>>>>>>>;

int main(int argc, char** argv) {
    std::vector<dlib::matrix<unsigned char>> train_images, test_images;
    std::vector<unsigned long> train_labels, test_labels;
    dlib::load_mnist_dataset(argv[1], train_images, train_labels, test_images, test_labels);

    Mlp net;
    std::cout << net << '\n';
    dlib::dnn_trainer<Mlp, dlib::adam> trainer(net, dlib::adam(0.0f, 0.9f, 0.999f));
    trainer.set_learning_rate(1e-3);
    trainer.set_mini_batch_size(512);
    trainer.set_max_num_epochs(150);
    trainer.be_verbose();
    trainer.train(train_images, train_labels);

    std::vector<unsigned long> predicted = net(test_images);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < test_images.size(); ++i) correct += predicted[i] == test_labels[i];
    std::cout << "test accuracy: " << 100.0 * double(correct) / double(test_images.size()) << "%\n";
}
