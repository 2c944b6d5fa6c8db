// Which layers run fused with the ones before them, by role (core/fusion.hpp).
// The grouping folds over this list; a group then runs as one pass:
//
//   Dense, Tanh                          one GEMM, the activation in its epilogue
//   Conv2D, BatchNorm, ReLU, MaxPool2D   one convolution pass at inference (BatchNorm
//                                        as a per-channel affine map), the pooling in
//                                        its epilogue; in training the BatchNorm needs
//                                        batch statistics, so the group runs
//                                        convolution, BatchNorm, then ReLU + pooling
//   Dense, BatchNorm, ReLU               the same on a Dense layer's rows
//   Dense, Softmax                       the softmax per row in the GEMM's epilogue; with
//                                        cross-entropy, backward starts from p - t
//   RepeatVector, LSTM (GRU, SimpleRNN)  the input projection once per sample, not per
//                                        step; backward sums the steps' gate gradients
//                                        before the kernel's GEMMs
#pragma once

#include <boost/mp11/list.hpp>

#include "ctnn/core/fusion.hpp"

namespace ctnn {

using fusion_rules = boost::mp11::mp_list<
    fusion::Follows<fusion::normalization, fusion::producer>,
    fusion::Follows<fusion::activation, fusion::producer, fusion::normalization>,
    fusion::Follows<fusion::pooling, fusion::planes, fusion::normalization, fusion::activation>,
    // Not after an activation: backward through the softmax would need the
    // activation's output, which the fused pass does not keep.
    fusion::Follows<fusion::distribution, fusion::rows, fusion::normalization>,
    fusion::Follows<fusion::recurrence, fusion::repetition>>;

// Every backend fuses by these unless it says otherwise.
template <class Backend>
struct fusion_rules_for {
    using type = fusion_rules;
};

} // namespace ctnn
