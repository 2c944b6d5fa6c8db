// Macros shared by every header: code that must also compile for CUDA devices.
#pragma once

#if defined(__CUDACC__)
#define CTNN_HOST_DEVICE __host__ __device__
#else
#define CTNN_HOST_DEVICE
#endif
