"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


class SkipGramModel(nn.Module):  # Andras7/word2vec-pytorch's skip-gram with negative sampling
    def __init__(self, emb_size, emb_dimension):
        super().__init__()
        self.emb_size = emb_size
        self.emb_dimension = emb_dimension
        self.u_embeddings = nn.Embedding(emb_size, emb_dimension, sparse=True)
        self.v_embeddings = nn.Embedding(emb_size, emb_dimension, sparse=True)
        initrange = 1.0 / self.emb_dimension
        nn.init.uniform_(self.u_embeddings.weight.data, -initrange, initrange)
        nn.init.constant_(self.v_embeddings.weight.data, 0)

    def forward(self, pos_u, pos_v, neg_v):
        emb_u = self.u_embeddings(pos_u)
        emb_v = self.v_embeddings(pos_v)
        emb_neg_v = self.v_embeddings(neg_v)

        score = torch.sum(torch.mul(emb_u, emb_v), dim=1)
        score = torch.clamp(score, max=10, min=-10)
        score = -F.logsigmoid(score)

        neg_score = torch.bmm(emb_neg_v, emb_u.unsqueeze(2)).squeeze()
        neg_score = torch.clamp(neg_score, max=10, min=-10)
        neg_score = -torch.sum(F.logsigmoid(-neg_score), dim=1)

        return torch.mean(score + neg_score)


# a synthetic corpus: a random walk over 40 "words", so that neighbours co-occur
vocab_size, window, num_neg = 40, 2, 5
steps = torch.randint(-2, 3, (600,))
corpus = torch.remainder(torch.cumsum(steps, 0), vocab_size)
counts = torch.bincount(corpus, minlength=vocab_size).float()
noise_dist = counts.pow(0.75)
noise_dist = noise_dist / noise_dist.sum()


class SkipGramDataset(Dataset):
    def __init__(self, corpus, window):
        self.pairs = []
        words = corpus.tolist()
        for i, w in enumerate(words):
            for j in range(max(0, i - window), min(len(words), i + window + 1)):
                if j != i:
                    self.pairs.append((w, words[j]))

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, idx):
        u, v = self.pairs[idx]
        return torch.tensor(u), torch.tensor(v)


loader = DataLoader(SkipGramDataset(corpus, window), batch_size=256, shuffle=True)
model = SkipGramModel(vocab_size, 16)
optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=0.01)
for _epoch in range(2):
    running_loss = 0.0
    for i, (pos_u, pos_v) in enumerate(loader):
        neg_v = torch.multinomial(noise_dist, pos_u.size(0) * num_neg, replacement=True)
        neg_v = neg_v.view(pos_u.size(0), num_neg)
        optimizer.zero_grad()
        loss = model.forward(pos_u, pos_v, neg_v)
        loss.backward()
        optimizer.step()
        running_loss = running_loss * 0.9 + loss.item() * 0.1
        if i % 3 == 0:
            print(f"{loss.item():.6f}")
    print(f"{running_loss:.6f}")

# nearest neighbours by cosine similarity
with torch.no_grad():
    emb = F.normalize(model.u_embeddings.weight, dim=1)
    sims = emb @ emb.T
    values, indices = torch.topk(sims[:3], k=4, dim=1)
for row in range(3):
    print(" ".join(f"{v:.5f}" for v in values[row].tolist()))
print(f"{emb.norm(dim=1).mean().item():.6f}")
