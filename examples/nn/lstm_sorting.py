"""An LSTM learns to sort (book, chapter 4 column): 800 training sequences of length 1-4."""

from physdl.nn.demos import lstm_sorting

r = lstm_sorting()
print(f"unseen length-4 sequences sorted exactly: {r['exact']:.1%}")
for seq, out in r["examples"]:
    print(seq, "->", out)
