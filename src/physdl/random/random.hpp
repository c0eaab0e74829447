// Bulk draws from Philox4x32-10.  Results depend only on (seed, stream, offset)
// and the index, never on the number of threads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace physdl::random {

/// words[j] = lane (j % 4) of block (offset + j / 4).
void fill_uint32(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                 std::uint32_t* words, std::size_t n);

/// out[j] = uniform_double(word 2j, word 2j+1) over the same word stream: [0, 1).
void fill_uniform_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                         double* out, std::size_t n);

/// out[j] = uniform_float(word j): [0, 1).
void fill_uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        float* out, std::size_t n);

/// Standard normals by Box-Muller: block b gives two normals from its four words,
/// u1 = uniform_double_open0(w0, w1), u2 = uniform_double(w2, w3),
/// out[2b] = r cos(2 pi u2), out[2b+1] = r sin(2 pi u2), r = sqrt(-2 ln u1).
void fill_normal_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        double* out, std::size_t n);

}  // namespace physdl::random
