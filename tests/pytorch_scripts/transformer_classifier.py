"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class Classifier(nn.Module):
    def __init__(self, vocab=30, d=16, heads=4, classes=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=32, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, tokens, pad_mask):
        h = self.encoder(self.emb(tokens), src_key_padding_mask=pad_mask)
        h = h.masked_fill(pad_mask[..., None], 0.0).sum(1) / (~pad_mask).sum(1, keepdim=True)
        return self.head(h)


model = Classifier()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
tokens = torch.randint(0, 30, (6, 10))
pad = torch.zeros(6, 10, dtype=torch.bool)
pad[:, 7:] = True
labels = torch.randint(0, 3, (6,))
for _ in range(5):
    loss = nn.functional.cross_entropy(model(tokens, pad), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"{loss.item():.6f}")
mha = nn.MultiheadAttention(16, 2, batch_first=True)
q = torch.randn(2, 5, 16)
out, w = mha(q, q, q, need_weights=True)
print(f"{out.sum().item():.5f} {w.sum().item():.5f}")
