"""A small CNN on scikit-learn's bundled 8x8 digits (no download), trained with physdl.nn."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from physdl import nn

d = load_digits()
X = (d.images / 16.0).astype(np.float32)[:, None]
Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.25, random_state=0, stratify=d.target)
model = nn.Sequential([
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dense(128, 64), nn.ReLU(), nn.Dense(64, 10)], seed=0)
hist = model.fit(Xtr, ytr, loss="softmax_cross_entropy", optimizer=nn.Adam(lr=2e-3), epochs=30, batch_size=32,
                 validation=(Xte, yte), progress=True)
print(f"test accuracy {hist['val_accuracy'][-1]:.3f}")
model.save("digits_cnn.npz")
