// Cellular automata of the chapter 4 column: the box-ball system (eq. 4.47).
#pragma once

#include <cstdint>

namespace physdl::nn {

// Evolve a box-ball configuration (0 = empty box, 1 = ball) of length L for `steps` time steps
// (book eq. 4.47: every ball, from the left, moves to the nearest empty box on its right; done by
// the equivalent carrier sweep).  history holds (steps + 1) * L values, row 0 = the initial state.
// Returns the number of balls carried past the right end (0 when the lattice is long enough).
long box_ball_evolve(const std::uint8_t* init, long L, long steps, std::uint8_t* history);

}  // namespace physdl::nn
