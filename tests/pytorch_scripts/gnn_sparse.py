"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)

# a small random graph: two communities, denser inside than across (a toy "Cora")
num_nodes, num_feats, num_classes = 30, 8, 3
labels = torch.randint(0, num_classes, (num_nodes,))
same = labels.unsqueeze(0) == labels.unsqueeze(1)
probs = torch.where(same, torch.tensor(0.35), torch.tensor(0.04))
upper = torch.triu(torch.bernoulli(probs), diagonal=1)
adj_dense = upper + upper.t()
edge_index = adj_dense.nonzero().t().contiguous()            # [2, num_edges], LongTensor
print(edge_index.size(1), int(edge_index.dtype == torch.long))
x = torch.randn(num_nodes, num_feats) + F.one_hot(labels, num_feats).float() * 1.5

train_mask = torch.zeros(num_nodes, dtype=torch.bool)
train_mask[torch.randperm(num_nodes)[:12]] = True
test_mask = ~train_mask


def add_self_loops(edge_index, num_nodes):
    loops = torch.arange(num_nodes, dtype=torch.long).unsqueeze(0).repeat(2, 1)
    return torch.cat([edge_index, loops], dim=1)


def gcn_norm(edge_index, num_nodes):
    row, col = edge_index
    deg = torch.zeros(num_nodes).scatter_add_(0, col, torch.ones(col.size(0)))
    deg_inv_sqrt = deg.pow(-0.5)
    deg_inv_sqrt.masked_fill_(deg_inv_sqrt == float('inf'), 0)
    return deg_inv_sqrt[row] * deg_inv_sqrt[col]


norm_no_loops = gcn_norm(edge_index, num_nodes)             # isolated nodes would give inf
deg = torch.zeros(num_nodes, dtype=torch.long).index_add_(0, edge_index[0],
                                                          torch.ones_like(edge_index[0]))
print(int((deg == 0).sum()), deg.max().item(), f"{norm_no_loops.sum().item():.6f}")
d_inv_sqrt = torch.tensor([0.0, 4.0, 1.0]).pow(-0.5)       # a degree-0 node -> inf -> 0
d_inv_sqrt[torch.isinf(d_inv_sqrt)] = 0.0
print(" ".join(f"{v:.4f}" for v in d_inv_sqrt.tolist()))


class GCNConv(nn.Module):  # the PyG "creating message passing networks" tutorial, by hand
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self):
        self.lin.reset_parameters()
        self.bias.data.zero_()

    def forward(self, x, edge_index):
        edge_index = add_self_loops(edge_index, x.size(0))
        x = self.lin(x)
        row, col = edge_index
        norm = gcn_norm(edge_index, x.size(0))
        messages = norm.view(-1, 1) * x[row]                  # message from source j to target i
        out = torch.zeros_like(x).index_add_(0, col, messages)  # aggregate ("add")
        return out + self.bias


class SparseGCNConv(nn.Module):  # the same layer as  D^-1/2 (A + I) D^-1/2  X W  with an adjacency
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x, edge_index):
        edge_index = add_self_loops(edge_index, x.size(0))
        norm = gcn_norm(edge_index, x.size(0))
        adj = torch.sparse_coo_tensor(edge_index.flip(0), norm, (x.size(0), x.size(0)))
        return torch.sparse.mm(adj, x @ self.weight) + self.bias


class GCN(nn.Module):
    def __init__(self, conv, hidden):
        super().__init__()
        self.conv1 = conv(num_feats, hidden)
        self.conv2 = conv(hidden, num_classes)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index)


def accuracy(model, mask):
    model.eval()
    with torch.no_grad():
        pred = model(x, edge_index).argmax(dim=1)
    return int((pred[mask] == labels[mask]).sum()) / int(mask.sum())


for conv in (GCNConv, SparseGCNConv):
    model = GCN(conv, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for epoch in range(25):
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        loss = F.cross_entropy(out[train_mask], labels[train_mask])
        loss.backward()
        optimizer.step()
        if epoch % 3 == 0:
            print(f"{loss.item():.6f}")
    print(f"{accuracy(model, train_mask):.4f} {accuracy(model, test_mask):.4f}")
    model.eval()
    with torch.no_grad():
        out = model(x, edge_index)
    print(f"{out.log_softmax(dim=-1).sum().item():.5f}")
    print(f"{model.conv1.bias.norm().item():.6f}")
