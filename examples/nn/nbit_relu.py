"""The N-bit Hamiltonian ReLU (book eq. 3.33-3.41, Fig. 3.4): <h> for N = 1, 3, 10, 30 bits."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from physdl.nn.demos import nbit_relu

z = np.linspace(-6, 14, 801)
for n in (1, 3, 10, 30):
    plt.plot(z, nbit_relu(z, n), label=f"N = {n}")
plt.plot(z, np.maximum(z, 0), "k--", label="max(z, 0)")
plt.xlabel("z")
plt.ylabel("<h>")
plt.legend()
plt.savefig("nbit_relu.png", dpi=110)
print("wrote nbit_relu.png")
