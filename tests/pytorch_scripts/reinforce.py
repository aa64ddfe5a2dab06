"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

torch.manual_seed(543)
gamma = 0.95
eps = torch.finfo(torch.float32).eps  # as in pytorch/examples' reinforce.py


class Corridor:
    """Walk left or right along a corridor of 6 cells; the goal is the right end."""

    def __init__(self, length=6, max_steps=12):
        self.length = length
        self.max_steps = max_steps

    def reset(self):
        self.pos = 1
        self.steps = 0
        return self._obs()

    def _obs(self):
        state = torch.zeros(self.length)
        state[self.pos] = 1.0
        return state

    def step(self, action):
        self.steps += 1
        self.pos = max(0, min(self.length - 1, self.pos + (1 if action == 1 else -1)))
        done = self.pos == self.length - 1 or self.steps >= self.max_steps
        reward = 1.0 if self.pos == self.length - 1 else -0.1
        return self._obs(), reward, done


class Policy(nn.Module):
    def __init__(self, n_states=6, n_actions=2, hidden=32):
        super().__init__()
        self.affine1 = nn.Linear(n_states, hidden)
        self.dropout = nn.Dropout(p=0.2)
        self.action_head = nn.Linear(hidden, n_actions)
        self.value_head = nn.Linear(hidden, 1)  # the baseline
        self.saved_actions = []
        self.rewards = []
        self.entropies = []

    def forward(self, x):
        x = F.relu(self.dropout(self.affine1(x)))
        action_prob = F.softmax(self.action_head(x), dim=-1)
        return action_prob, self.value_head(x)


env = Corridor()
policy = Policy()
optimizer = optim.Adam(policy.parameters(), lr=1e-2)


def select_action(state):
    probs, state_value = policy(state.unsqueeze(0))
    m = Categorical(probs)
    action = m.sample()
    policy.saved_actions.append((m.log_prob(action), state_value.squeeze()))
    policy.entropies.append(m.entropy())
    return action.item()


def finish_episode():
    R = 0
    returns = []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    raw_returns = returns.clone()
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_losses, value_losses = [], []
    for (log_prob, value), R in zip(policy.saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, R))
    entropy = torch.cat(policy.entropies).mean()
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum() - 0.01 * entropy
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), max_norm=1.0)
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_actions[:]
    del policy.entropies[:]
    return loss.item(), grad_norm.item(), raw_returns[0].item()


running_reward = 0.0
for _i_episode in range(20):
    state, ep_reward = env.reset(), 0.0
    for _t in range(1, 100):
        action = select_action(state)
        state, reward, done = env.step(action)
        policy.rewards.append(reward)
        ep_reward += reward
        if done:
            break
    running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
    loss, grad_norm, ret = finish_episode()
    print(f"{env.steps} {ep_reward:.2f} {loss:.6f} {grad_norm:.6f} {ret:.6f}")
print(f"{running_reward:.6f}")

policy.eval()
with torch.no_grad():
    probs, values = policy(torch.eye(6))
    print(" ".join(f"{p:.6f}" for p in probs[:, 1].tolist()))
    print(" ".join(f"{v:.6f}" for v in values.squeeze(1).tolist()))
    dist = Categorical(logits=torch.log(probs))
    print(f"{dist.entropy().sum().item():.6f}")
    print(" ".join(str(a) for a in dist.sample((3,)).flatten().tolist()))
