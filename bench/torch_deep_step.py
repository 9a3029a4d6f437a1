"""PyTorch peer of `laaf train` for npm run bench (bench/deep.ts): ms per SGD step.

The papers' LeNet variant (conv 1->64 5x5, max-pool 2, n*a*x, ReLU, conv 64->64 5x5,
max-pool 2, n*a*x, ReLU, fc 1024->1024, n*a*x, ReLU, dropout 0.5, fc ->10) or the
784-256-256-10 ReLU MLP, batch 64, softmax cross-entropy, SGD lr 0.01 momentum 0.9;
adaptive 'neuron' adds one slope per element of each activation's input and the slope
recovery term 1 / mean_k exp(mean a_k). Random inputs of Fashion-MNIST's shape.
Prints `ms_per_step <median>`. Not a dependency of laaf.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Adaptive(nn.Module):
    def __init__(self, shape, mode, n=1.0):
        super().__init__()
        self.n = n
        self.a = nn.Parameter(torch.full(shape, 1.0 / n)) if mode == 'neuron' else None

    def forward(self, x):
        return F.relu(x if self.a is None else self.n * self.a * x)


class LeNet(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.c1 = nn.Conv2d(1, 64, 5)
        self.c2 = nn.Conv2d(64, 64, 5)
        self.f1 = nn.Linear(1024, 1024)
        self.f2 = nn.Linear(1024, 10)
        self.a1 = Adaptive((64, 12, 12), mode)
        self.a2 = Adaptive((64, 4, 4), mode)
        self.a3 = Adaptive((1024,), mode)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = self.a1(F.max_pool2d(self.c1(x), 2))
        x = self.a2(F.max_pool2d(self.c2(x), 2))
        x = self.drop(self.a3(self.f1(x.flatten(1))))
        return self.f2(x)

    def slopes(self):
        return [m.a for m in (self.a1, self.a2, self.a3) if m.a is not None]


class Mlp(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.f1 = nn.Linear(784, 256)
        self.f2 = nn.Linear(256, 256)
        self.f3 = nn.Linear(256, 10)
        self.a1 = Adaptive((256,), mode)
        self.a2 = Adaptive((256,), mode)

    def forward(self, x):
        return self.f3(self.a2(self.f2(self.a1(self.f1(x.flatten(1))))))

    def slopes(self):
        return [m.a for m in (self.a1, self.a2) if m.a is not None]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['lenet', 'mlp'], default='lenet')
    p.add_argument('--adaptive', choices=['none', 'neuron'], default='none')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--batch', type=int, default=64)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = LeNet(a.adaptive) if a.model == 'lenet' else Mlp(a.adaptive)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    n = a.batch * (a.steps + a.warmup)
    x = torch.rand(n, 1, 28, 28)
    y = torch.randint(0, 10, (n,))
    times = []
    for k in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        xb, yb = x[k * a.batch:(k + 1) * a.batch], y[k * a.batch:(k + 1) * a.batch]
        loss = F.cross_entropy(net(xb), yb)
        s = net.slopes()
        if s:
            loss = loss + 1.0 / (sum(torch.exp(t.mean()) for t in s) / len(s))
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        if k >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    print('ms_per_step', statistics.median(times))


if __name__ == '__main__':
    main()
