"""Chapter 10: a Hopfield network recalls stored patterns from corrupted copies."""
from physdl import hopfield

xi = hopfield.random_patterns(3, 200, seed=1)
net = hopfield.Hopfield.from_patterns(xi)
noisy = hopfield.corrupt(xi, 0.1, seed=2)
res = net.run(noisy, seed=3)
print("overlap before recall:", hopfield.overlaps(noisy, xi).diagonal().round(2).tolist())
print("overlap after recall :", hopfield.overlaps(res.states, xi).diagonal().round(2).tolist())
