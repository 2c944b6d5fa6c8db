# Sourced by bench/run and bench/contention: installing the optional anchors,
# and libtorch's best configuration on this CPU.

# install_anchors PACKAGE...: each missing Debian package, or a note that its
# column is skipped.
install_anchors() {
    local package sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            echo "bench: installing $package"
            { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
                --no-install-recommends "$package"; } || echo "bench: could not install $package; its column is skipped"
        fi
    done
}

# torch_best: the environment of libtorch's best configuration here:
# OpenBLAS's OpenMP build, and the widest kernels the CPU runs (AVX-512 only
# where there is AVX-512: the same settings die with "Illegal instruction" on
# an AVX2-only Zen 3).
torch_best=(LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp)
if grep -qw avx512f /proc/cpuinfo; then
    torch_best+=(OPENBLAS_CORETYPE=SkylakeX ATEN_CPU_CAPABILITY=avx512)
elif grep -qw avx2 /proc/cpuinfo; then
    torch_best+=(OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2)
fi

# torch_configs: the libtorch configurations bench/run tries on this CPU, as
# "name=ENV=value ENV=value" (no name for Debian's default): OpenBLAS's
# OpenMP and pthread builds, and each ATen kernel level the CPU can run.
# bench/run takes each row's fastest and names it.
torch_configs=("default=")
blas_dir=/usr/lib/x86_64-linux-gnu
levels=()
if grep -qw avx2 /proc/cpuinfo; then levels+=("avx2 Haswell"); fi
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then levels+=("avx512 SkylakeX"); fi
for level in "${levels[@]}"; do
    read -r capability core <<<"$level"
    for threading in openmp pthread; do
        torch_configs+=("$threading-$capability=LD_LIBRARY_PATH=$blas_dir/openblas-$threading OPENBLAS_CORETYPE=$core ATEN_CPU_CAPABILITY=$capability")
    done
done
