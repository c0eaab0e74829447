"""Task 3: an LSTM reads a noisy sine and predicts its next value."""
import numpy as np
from physdl import nn

rng = np.random.default_rng(0)
t0 = rng.uniform(0, 2 * np.pi, size=256)
steps = np.arange(13) * 0.3
wave = np.sin(t0[:, None] + steps[None, :])
X = wave[:, :12, None] + 0.01 * rng.normal(size=(256, 12, 1))   # (samples, time, features)
y = wave[:, 12:13]
model = nn.Sequential([nn.LSTM(1, 16), nn.Dense(16, 1)], seed=0, dtype="float64")
hist = model.fit(X, y, loss="mse", optimizer=nn.Adam(lr=1e-2), epochs=60, batch_size=32)
print(f"training MSE: first epoch {hist['loss'][0]:.3f}, last {hist['loss'][-1]:.5f}")
pred = model.predict(X[:3])
print("predicted:", np.round(pred[:, 0], 3).tolist(), " exact:", np.round(y[:3, 0], 3).tolist())
