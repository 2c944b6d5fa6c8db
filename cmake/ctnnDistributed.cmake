# The distributed engines' targets (include/ctnn/distributed/), defined here
# at build time and again by an installed ctnnConfig.cmake, as the device
# targets are (ctnnDevice.cmake):
#   ctnn::mpi   MPI (Open MPI on Debian: openmpi-bin, libopenmpi-dev) for
#               dist::Mpi, data-parallel training of CPU networks;
#   ctnn::nccl  NCCL with MPI and ctnn::cuda, for dist::Nccl (one GPU per
#               process), in sources compiled by nvcc.
# Each exists only where what it needs is found; without them ctnn builds
# and trains in one process.
find_package(MPI QUIET COMPONENTS CXX)
if(MPI_CXX_FOUND AND NOT TARGET ctnn::mpi)
    ctnn_device_target(mpi)
    # The C API only: no deprecated C++ bindings pulled in by mpi.h.
    target_compile_definitions(${ctnn_target} INTERFACE OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)
    target_link_libraries(${ctnn_target} INTERFACE ctnn::ctnn MPI::MPI_CXX)
endif()

if(TARGET ctnn::mpi AND TARGET ctnn::cuda AND NOT TARGET ctnn::nccl)
    find_path(CTNN_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS}
              DOC "NCCL's header, for dist::Nccl")
    find_library(CTNN_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR}
                 DOC "NCCL's library, for dist::Nccl")
    if(CTNN_NCCL_INCLUDE_DIR AND CTNN_NCCL_LIBRARY)
        ctnn_device_target(nccl)
        target_include_directories(${ctnn_target} SYSTEM INTERFACE ${CTNN_NCCL_INCLUDE_DIR})
        target_link_libraries(${ctnn_target} INTERFACE ctnn::mpi ctnn::cuda ${CTNN_NCCL_LIBRARY})
    endif()
endif()
