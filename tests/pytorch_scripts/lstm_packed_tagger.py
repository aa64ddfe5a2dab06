"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.manual_seed(3)

# a toy part-of-speech task: each word's tag depends on the word and on its left neighbour
PAD_IDX, TAG_PAD = 0, -100
vocab_size, num_tags = 20, 4
word_tag = torch.randint(0, num_tags, (vocab_size,))


def make_sentence(length):
    words = torch.randint(1, vocab_size, (length,))
    prev = torch.cat([torch.zeros(1, dtype=torch.long), words[:-1]])
    tags = (word_tag[words] + (prev % 2)) % num_tags
    return words, tags


lengths = torch.randint(2, 9, (24,))
data = [make_sentence(int(n)) for n in lengths]


class BiLSTMTagger(nn.Module):  # the "sequence models and LSTMs" tutorial, batched and packed
    def __init__(self, vocab_size, embedding_dim, hidden_dim, tagset_size):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_IDX)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, num_layers=2, bidirectional=True,
                            dropout=0.3, batch_first=True)
        self.dropout = nn.Dropout(0.2)
        self.hidden2tag = nn.Linear(2 * hidden_dim, tagset_size)

    def forward(self, sentences, lengths):
        embeds = self.dropout(self.word_embeddings(sentences))
        packed = pack_padded_sequence(embeds, lengths, batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        lstm_out, out_lengths = pad_packed_sequence(packed_out, batch_first=True,
                                                    padding_value=0.0)
        return self.hidden2tag(self.dropout(lstm_out)), h_n, out_lengths


def batches(batch_size, shuffle):
    order = torch.randperm(len(data)) if shuffle else torch.arange(len(data))
    for start in range(0, len(data), batch_size):
        items = [data[i] for i in order[start:start + batch_size].tolist()]
        words = pad_sequence([w for w, _ in items], batch_first=True, padding_value=PAD_IDX)
        tags = pad_sequence([t for _, t in items], batch_first=True, padding_value=TAG_PAD)
        lens = torch.tensor([len(w) for w, _ in items])
        yield words, tags, lens


def evaluate(model):
    model.eval()
    correct = total = 0
    loss_sum = 0.0
    with torch.no_grad():
        for words, tags, lens in batches(8, shuffle=False):
            scores, _, _ = model(words, lens)
            loss_sum += F.cross_entropy(scores.reshape(-1, num_tags), tags.reshape(-1),
                                        ignore_index=TAG_PAD, reduction="sum").item()
            mask = tags != TAG_PAD
            correct += (scores.argmax(-1)[mask] == tags[mask]).sum().item()
            total += mask.sum().item()
    return loss_sum / total, correct / total


for optimizer_name in ("RMSprop", "Adagrad"):
    model = BiLSTMTagger(vocab_size, 6, 8, num_tags)
    if optimizer_name == "RMSprop":
        optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9, momentum=0.5)
    else:
        optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1, lr_decay=1e-3,
                                        initial_accumulator_value=0.1)
    print(f"{model.word_embeddings.weight[PAD_IDX].abs().sum().item():.6f}")
    for _epoch in range(4):
        model.train()
        for words, tags, lens in batches(8, shuffle=True):
            optimizer.zero_grad()
            scores, h_n, out_lengths = model(words, lens)
            loss = F.cross_entropy(scores.view(-1, num_tags), tags.view(-1), ignore_index=TAG_PAD)
            loss.backward()
            total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            print(f"{loss.item():.6f} {total_norm.item():.6f}")
        print(f"{h_n.shape[0]} {scores.shape[1]} {out_lengths.max().item()}")
        val_loss, val_acc = evaluate(model)
        print(f"{val_loss:.6f} {val_acc:.6f}")
    print(f"{model.word_embeddings.weight[PAD_IDX].abs().sum().item():.6f}")
    print(f"{model.word_embeddings.weight.grad[PAD_IDX].abs().sum().item():.6f}")

# the final states come back in the batch's own order, whatever the lengths
model.eval()
words, tags, lens = next(batches(6, shuffle=False))
with torch.no_grad():
    packed = pack_padded_sequence(model.word_embeddings(words), lens, batch_first=True,
                                  enforce_sorted=False)
    print(" ".join(str(v) for v in packed.batch_sizes.tolist()))
    print(" ".join(str(v) for v in packed.sorted_indices.tolist()))
    out, (h_n, c_n) = model.lstm(packed)
    padded, _ = pad_packed_sequence(out, batch_first=True, total_length=10)
    print(*padded.shape, f"{padded.abs().sum().item():.6f}")
    print(" ".join(f"{v:.6f}" for v in h_n[-1].sum(1).tolist()))
    print(" ".join(f"{v:.6f}" for v in c_n[0].sum(1).tolist()))
    last = padded[torch.arange(6), lens - 1, :8]       # forward direction at each last step
    print(f"{(last - h_n[-2]).abs().max().item():.6f}")

# tag one sentence
words, tags = data[0]
with torch.no_grad():
    scores, _, _ = model(words.unsqueeze(0), torch.tensor([len(words)]))
print(" ".join(str(t) for t in scores.argmax(-1).squeeze(0).tolist()))
print(" ".join(str(t) for t in tags.tolist()))
