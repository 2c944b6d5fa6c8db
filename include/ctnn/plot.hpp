// ctnn's plots, drawn with cairo as PNG or SVG: link ctnn::plot. Kept out of
// ctnn.hpp so that a program that never plots needs no cairo.
#pragma once

#include "ctnn/plot/canvas.hpp"
#include "ctnn/plot/confusion.hpp"
#include "ctnn/plot/figure.hpp"
#include "ctnn/plot/history.hpp"
#include "ctnn/plot/images.hpp"
#include "ctnn/plot/sweep.hpp"
