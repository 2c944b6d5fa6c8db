#include <ctnn/backend/thrust/host.hpp>

#include "network.hpp"

int main() { return train_one_step<ctnn::backend::ThrustHost>(); }
