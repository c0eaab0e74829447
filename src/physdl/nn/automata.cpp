#include "physdl/nn/automata.hpp"

#include <cstring>

namespace physdl::nn {

long box_ball_evolve(const std::uint8_t* init, long L, long steps, std::uint8_t* history) {
  std::memcpy(history, init, std::size_t(L));
  long lost = 0;
  for (long t = 1; t <= steps; ++t) {
    const std::uint8_t* prev = history + (t - 1) * L;
    std::uint8_t* cur = history + t * L;
    long carrier = 0;  // balls picked up and not yet dropped
    for (long i = 0; i < L; ++i) {
      if (prev[i]) {
        ++carrier;
        cur[i] = 0;
      } else if (carrier > 0) {
        --carrier;
        cur[i] = 1;
      } else {
        cur[i] = 0;
      }
    }
    lost += carrier;
  }
  return lost;
}

}  // namespace physdl::nn
