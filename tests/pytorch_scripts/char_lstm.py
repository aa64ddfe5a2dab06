"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class CharRNN(nn.Module):
    def __init__(self, vocab=20, emb=8, hidden=16):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, num_layers=2, batch_first=True)
        self.gru = nn.GRU(hidden, hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, vocab)

    def forward(self, idx):
        h, _ = self.rnn(self.emb(idx))
        h, _ = self.gru(h)
        return self.head(h)


model = CharRNN()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
x = torch.randint(0, 20, (4, 12))
y = torch.roll(x, -1, 1)
for _ in range(5):
    logits = model(x)
    loss = nn.functional.cross_entropy(logits.reshape(-1, 20), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    print(f"{loss.item():.6f}")
seqs = [torch.randint(0, 20, (n,)) for n in (5, 3, 4)]
padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
packed = torch.nn.utils.rnn.pack_padded_sequence(model.emb(padded), [5, 3, 4], batch_first=True,
                                                 enforce_sorted=False)
out, (h, c) = model.rnn(packed)
print(f"{h.sum().item():.5f}")
