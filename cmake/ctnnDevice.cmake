# The device backends' targets, defined here at build time and again by an
# installed ctnnConfig.cmake, since both point at this machine's toolkit:
#   ctnn::thrust  Thrust's headers (CUDA's CCCL, else Debian's libthrust-dev)
#                 for ctnn::backend::ThrustHost, which any C++ compiler builds;
#   ctnn::cuda    the CUDA runtime and cuBLAS for ctnn::backend::Cuda, in
#                 sources compiled by nvcc.
# Each exists only where what it needs is found. An installed config sets
# CTNN_DEVICE_TARGETS_IMPORTED and gets imported targets; the build tree gets
# ordinary ones (visible to a parent project that add_subdirectory()s ctnn).
find_package(CUDAToolkit QUIET)
set(ctnn_cccl_hints)
if(CUDAToolkit_FOUND)
    foreach(dir ${CUDAToolkit_INCLUDE_DIRS})
        list(APPEND ctnn_cccl_hints ${dir}/cccl)
    endforeach()
endif()
find_path(CTNN_THRUST_INCLUDE_DIR thrust/version.h
    HINTS ${ctnn_cccl_hints} /usr/local/cuda/include/cccl
    PATHS /usr/include
    DOC "Thrust's headers for the ThrustHost backend (CCCL or libthrust-dev)")

macro(ctnn_device_target name)
    if(CTNN_DEVICE_TARGETS_IMPORTED)
        add_library(ctnn::${name} INTERFACE IMPORTED)
        set(ctnn_target ctnn::${name})
    else()
        add_library(ctnn_${name} INTERFACE)
        add_library(ctnn::${name} ALIAS ctnn_${name})
        set(ctnn_target ctnn_${name})
    endif()
endmacro()

if(CTNN_THRUST_INCLUDE_DIR AND NOT TARGET ctnn::thrust)
    ctnn_device_target(thrust)
    # For host compilers only: nvcc brings its own CCCL, and a host compiler
    # cannot build Thrust's default (CUDA) device system.
    target_include_directories(${ctnn_target} SYSTEM INTERFACE
        $<$<COMPILE_LANGUAGE:CXX>:${CTNN_THRUST_INCLUDE_DIR}>)
    target_compile_definitions(${ctnn_target} INTERFACE
        $<$<COMPILE_LANGUAGE:CXX>:THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP>)
    target_link_libraries(${ctnn_target} INTERFACE ctnn::ctnn)
endif()

if(CUDAToolkit_FOUND AND TARGET CUDA::cublas AND NOT TARGET ctnn::cuda)
    ctnn_device_target(cuda)
    # C++20 by flag (CMake 3.25 knows no CUDA 20 dialect for nvcc 13);
    # constexpr std:: functions (std::min, numeric_limits) in device code; and
    # OpenMP for the CPU backend's loops where a CUDA source also uses it.
    target_compile_options(${ctnn_target} INTERFACE
        $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --expt-relaxed-constexpr -Xcompiler=-fopenmp>)
    target_link_libraries(${ctnn_target} INTERFACE ctnn::ctnn CUDA::cudart CUDA::cublas)
endif()
