// Which OpenBLAS kernel ctnn runs on, and the sgemm rate it gets: the peak
// that every other benchmark is measured against.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <ctnn/backend/cpu/backend.hpp>

namespace {

double sgemm_gflops(std::size_t m, std::size_t n, std::size_t k, int repeats) {
    std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n);
    std::vector<double> seconds;
    for (int r = 0; r < repeats + 2; ++r) {
        auto start = std::chrono::steady_clock::now();
        ctnn::backend::Cpu{}.gemm(ctnn::Trans::no, ctnn::Trans::no, m, n, k, 1.0f, a.data(), k,
                                  b.data(), n, 0.0f, c.data(), n);
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    seconds.erase(seconds.begin(), seconds.begin() + 2);  // warm-up
    std::nth_element(seconds.begin(), seconds.begin() + repeats / 2, seconds.end());
    return 2.0 * double(m * n * k) / seconds[repeats / 2] * 1e-9;
}

} // namespace

int main() {
    const auto& blas = ctnn::backend::cpu::blas_info();
    std::printf("library:   %s\nkernel:    %s%s\nthreading: %s, %d threads\nconfig:    %s\n\n",
                blas.library.c_str(), blas.core.c_str(),
                blas.core_forced ? " (OPENBLAS_CORETYPE set by ctnn)" : "",
                blas.threading.c_str(), blas.threads, blas.config.c_str());
    std::printf("%-22s %10s\n", "sgemm M x N x K", "GFLOPS");
    const std::size_t shapes[][3] = {{1024, 1024, 1024}, {512, 250, 784}, {784, 250, 512},
                                     {512, 784, 250},    {512, 10, 250},  {1, 250, 784}};
    for (const auto& s : shapes)
        std::printf("%-22s %10.1f\n",
                    (std::to_string(s[0]) + " x " + std::to_string(s[1]) + " x " +
                     std::to_string(s[2])).c_str(),
                    sgemm_gflops(s[0], s[1], s[2], s[0] == 1024 ? 11 : 51));
}
