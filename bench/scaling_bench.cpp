// bench/scaling's measurements, run under mpirun -np P: for each seed model,
// the data-parallel training step at its global batch (each process takes
// its shard, as fit does), the all-reduce of its gradient buffer alone, and
// the bytes that all-reduce moves per process. Rank 0 prints RESULT lines
// (median over the steps; the collectives keep the processes in step).
#include <cstdio>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/distributed/mpi.hpp>

#include "seed_models.hpp"
#include "timing.hpp"

namespace {

using bench::Adder, bench::CifarCnn, bench::FashionCnn, bench::Mlp, bench::SeedCnn;

template <class Net>
void measure(const ctnn::dist::Mpi& mpi, const std::string& name, std::size_t global_batch,
             std::size_t target_width, std::size_t classes, int repeats) {
    const ctnn::dist::Shard shard = ctnn::dist::shard_of(global_batch, mpi.rank(), mpi.size());
    const std::size_t local = shard.size();
    Net net{ctnn::Seed{1}};
    ctnn::Adam optimizer{1e-3f};
    const ctnn::CategoricalCrossEntropy loss;
    ctnn::Rng rng(7 + std::uint64_t(mpi.rank()));
    std::vector<float> inputs(local * Net::input_shape::size), labels(local * target_width);
    for (float& x : inputs) x = rng.uniform();
    for (float& y : labels) y = float(rng.below(classes));
    ctnn::Context context{ctnn::Mode::training, 3, 0, 0};
    context.sample_offset = shard.first;
    context.global_batch = global_batch;
    context.batch_share = float(local) / float(global_batch);
    net.reserve(local);

    const double step = bench::median_seconds(
        [&] {
            ctnn::detail::data_parallel_step(mpi, net, optimizer, loss, context, inputs.data(), labels.data(),
                                             local, global_batch, target_width, true, nullptr);
            ++context.step;
        },
        3, repeats);
    float* gradients = net.gradients().data();
    const double all_reduce = bench::median_seconds(
        [&] { mpi.all_reduce_sum(gradients, Net::param_count); }, 3, 4 * repeats);
    if (mpi.rank() != 0) return;
    const std::string key = "scaling_" + name + "_p" + std::to_string(mpi.size());
    bench::report((key + "_batch").c_str(), double(global_batch), "samples");
    bench::report((key + "_gradient_bytes").c_str(), double(Net::param_count * sizeof(float)), "bytes");
    bench::report((key + "_step").c_str(), step * 1e3, "ms");
    bench::report((key + "_all_reduce").c_str(), all_reduce * 1e3, "ms");
}

} // namespace

int main(int argc, char** argv) {
    ctnn::dist::Mpi mpi(argc, argv);
    if (mpi.rank() == 0) std::printf("CONFIG scaling: %d processes\n", mpi.size());
    measure<Mlp>(mpi, "mlp", 512, 1, 10, 60);
    measure<SeedCnn>(mpi, "cnn", 128, 1, 10, 20);
    measure<FashionCnn>(mpi, "fashion_cnn", 128, 1, 10, 10);
    measure<CifarCnn>(mpi, "cifar_cnn", 64, 1, 10, 10);
    measure<Adder>(mpi, "lstm_addition", 512, 3, 12, 20);
}
