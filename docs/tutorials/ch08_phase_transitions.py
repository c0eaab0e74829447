"""Chapter 8: a neural network learns the ordered and disordered phases of the 2D Ising model."""
import numpy as np
from physdl import phases
from physdl.lattice import ising_dataset

temps = np.linspace(1.5, 3.5, 9)
data = ising_dataset("square", L=8, temperatures=temps, n_per_T=40, seed=0, progress=False)
clf = phases.PhaseClassifier(8, kind="fc", seed=0)
clf.fit(data, epochs=5, progress=False)
scan = clf.scan(data)
for T, p in zip(scan["T"], scan["output"].value):
    print(f"T = {T:.2f}: P(disordered) = {p:.2f}")
print("crossing temperature:", phases.crossing_temperature(data.T, scan["per_config"]))
print("exact T_c (L = infinity): 2.269; L = 8 and 5 epochs are tutorial settings, not a measurement")
