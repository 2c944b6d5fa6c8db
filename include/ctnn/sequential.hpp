// ctnn::Sequential<Input<...>, Layers...>: the network most programs want, on
// the CPU backend, with its layers fused (core/network.hpp has the rest).
#pragma once

#include "ctnn/backend/cpu/backend.hpp"
#include "ctnn/core/network.hpp"
#include "ctnn/layers/fusion_rules.hpp"

namespace ctnn {

template <class... Layers>
using Sequential = Network<backend::Cpu, Fusion::fused, Layers...>;

} // namespace ctnn
