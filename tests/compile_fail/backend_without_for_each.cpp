// A user-defined backend that has every operation but for_each.
// expect: ctnn: the network's backend lacks an operation the ctnn::Backend concept lists
// expect-context: NoLoops
// expect-context: backend.for_each(n,
#include <ctnn/ctnn.hpp>

struct NoLoops {
    static constexpr std::string_view name = "no loops";
    static constexpr bool host_memory = true;
    template <class T>
    using buffer = ctnn::backend::Cpu::buffer<T>;

    void gemm(ctnn::Trans, ctnn::Trans, std::size_t, std::size_t, std::size_t, float, const float*,
              std::size_t, const float*, std::size_t, float, float*, std::size_t) const {}
    void gemm_strided_batched(ctnn::Trans, ctnn::Trans, std::size_t, std::size_t, std::size_t,
                              float, const float*, std::size_t, std::size_t, const float*,
                              std::size_t, std::size_t, float, float*, std::size_t, std::size_t,
                              std::size_t) const {}
    template <class F>
    double transform_sum(std::size_t, F) const {
        return 0.0;
    }
    void column_sums(const float*, std::size_t, std::size_t, float*, float = 0.0f) const {}
    void axpy(std::size_t, float, const float*, float*) const {}
    void fill(float*, std::size_t, float) const {}
    void copy(const float*, float*, std::size_t) const {}
    void to_device(const float*, float*, std::size_t) const {}
    void to_host(const float*, float*, std::size_t) const {}
};

using Net = ctnn::Network<NoLoops, ctnn::Fusion::fused, ctnn::Input<4>, ctnn::Dense<3>, ctnn::ReLU,
                          ctnn::Dense<2>>;
Net net;
