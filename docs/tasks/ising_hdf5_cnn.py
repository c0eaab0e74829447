"""Task 2: Ising configurations to an HDF5 file, then a CNN phase classifier."""
import numpy as np
from physdl import phases
from physdl.lattice import ising_dataset

temps = np.linspace(1.6, 3.2, 8)
data = ising_dataset("square", L=8, temperatures=temps, n_per_T=30, seed=0,
                     path="ising_L8.h5", progress=False)           # sampled once, then read from the file
again = ising_dataset("square", L=8, temperatures=temps, n_per_T=30, seed=0,
                      path="ising_L8.h5", progress=False)
print("configs:", data.configs.shape, data.configs.dtype, "read back equal:",
      bool(np.array_equal(data.configs, again.configs)))
clf = phases.PhaseClassifier(8, kind="cnn", seed=1)
clf.fit(data, epochs=4, progress=False)
scan = clf.scan(data)
print("P(disordered) per T:", np.round(scan["output"].value, 2).tolist())
print("crossing T:", phases.crossing_temperature(data.T, scan["per_config"]),
      "(exact 2.269; L = 8 and 4 epochs are example settings)")
