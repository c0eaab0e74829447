"""Chapters 3-4: a small network fits x^2 and an LSTM reads a sequence."""
import numpy as np
from physdl import nn

X = np.linspace(-1, 1, 64).reshape(-1, 1)
y = X ** 2
model = nn.Sequential([nn.Dense(1, 16), nn.Tanh(), nn.Dense(16, 1)], seed=0, dtype="float64")
hist = model.fit(X, y, loss="mse", optimizer=nn.Adam(lr=1e-2), epochs=200, batch_size=16)
print(f"final training loss: {hist['loss'][-1]:.2e}")
print("prediction at x = 0.5:", float(model.predict(np.array([[0.5]]))[0, 0]), "(exact 0.25)")
