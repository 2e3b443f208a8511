#!/usr/bin/python3
"""ONNX files exported by PyTorch (torch.onnx), with inputs and PyTorch's
probabilities, for test_onnx_import. Usage:

    torch_models.py OUTDIR [SEED]

writes OUTDIR/NAME.onnx, NAME.input.f32 (N x C x H x W float32) and
NAME.probs.f32 (N x classes float32, PyTorch's softmax of its outputs) for
each network below; a line per network on stdout. tests/fixtures/onnx holds
the output of seed 1 (so a clone without PyTorch still tests real exports);
the onnx_torch test runs this again with another seed when PyTorch is there.
Debian's python3-torch: run with /usr/bin/python3."""
import os
import sys

import torch
from torch import nn


class Plain(nn.Module):
    """conv + bn + relu blocks, max pooling, global average, dropout, dense."""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 16, 1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 7),
            nn.Softmax(dim=1))

    def forward(self, x):
        return self.f(x)


class MiniXception(nn.Module):
    """depthwise-separable blocks in the style of mini-Xception (no residual
    branches: nn's architecture text is a chain), colour input, logits out."""

    def __init__(self):
        super().__init__()

        def sep(c_in, c_out, stride):
            return [nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False),
                    nn.BatchNorm2d(c_in), nn.ReLU(),
                    nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.f = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            *sep(8, 16, 1), nn.MaxPool2d(2), *sep(16, 32, 2), *sep(32, 32, 1),
            nn.Conv2d(32, 5, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.f(x)


class Residual(nn.Module):
    """residual blocks: an identity shortcut and a strided 1x1 projection"""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.a = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                               nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
        self.b = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16),
                               nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.proj = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2), nn.BatchNorm2d(16))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 7))

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(x + self.a(x))
        x = torch.relu(self.b(x) + self.proj(x))
        return torch.softmax(self.head(x), dim=1)


class Gates(nn.Module):
    """squeeze-and-excitation (1x1 convolutions, sigmoid, multiply), two
    branches concatenated, LeakyReLU, ReLU6, Hardswish, SiLU, a mean over
    the map"""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 4, 1), nn.ReLU(),
                                nn.Conv2d(4, 8, 1), nn.Sigmoid())
        self.left = nn.Sequential(nn.Conv2d(8, 6, 3, padding=1), nn.LeakyReLU(0.1))
        self.right = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU6())
        self.tail = nn.Sequential(nn.Conv2d(10, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8),
                                  nn.Hardswish(), nn.Conv2d(8, 8, 1), nn.SiLU())
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.c1(x)
        x = x * self.se(x)
        x = torch.cat([self.left(x), self.right(x)], dim=1)
        x = self.tail(x).mean((2, 3))
        return torch.softmax(self.fc(x), dim=1)


class Windows(nn.Module):
    """convolutions without padding, with more than K/2, with an even
    kernel, grouped (2 groups) and depthwise without padding; overlapping
    max and average windows with padding"""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=0), nn.ReLU(), nn.Conv2d(6, 6, 3, padding=2), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(6, 8, 2), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.Conv2d(8, 8, 3, padding=0, groups=8),
            nn.ReLU(),
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
            nn.AvgPool2d(2, stride=2), nn.Conv2d(8, 6, 3, stride=2), nn.ReLU(),
            nn.Flatten(), nn.Linear(6 * 2 * 2, 5), nn.Softmax(dim=1))

    def forward(self, x):
        return self.f(x)

    def sharpen(self):
        """a deep stack of small random layers gives nearly the same output
        for every input; larger weights make the probabilities differ well
        beyond the test's tolerance, so a wrong window would show"""
        with torch.no_grad():
            for m in self.f:
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    m.weight.mul_(2.5)


class MatMulHead(nn.Module):
    """a dense head written as x @ W + b (MatMul and Add), a hidden layer,
    a temperature division before the softmax."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 5, stride=2, padding=2)
        self.w1 = nn.Parameter(torch.randn(4 * 8 * 8, 10) * 0.05)
        self.b1 = nn.Parameter(torch.randn(10) * 0.1)
        self.w2 = nn.Parameter(torch.randn(10, 3) * 0.3)
        self.b2 = nn.Parameter(torch.randn(3) * 0.1)

    def forward(self, x):
        h = torch.relu(self.conv(x)).flatten(1)
        h = torch.relu(h @ self.w1 + self.b1)
        return torch.softmax((h @ self.w2 + self.b2) / 1.7, dim=1)


NETS = [("plain_bn", Plain, (1, 24, 24), False), ("plain_folded", Plain, (1, 24, 24), True),
        ("xception_dw", MiniXception, (3, 16, 16), False),
        ("xception_dw_folded", MiniXception, (3, 16, 16), True),
        ("matmul_head", MatMulHead, (1, 16, 16), True),
        ("residual_bn", Residual, (1, 16, 16), False), ("residual_folded", Residual, (1, 16, 16), True),
        ("gates", Gates, (3, 12, 12), False), ("windows", Windows, (1, 28, 28), True)]


def randomise_bn(model, g):
    """running statistics and affine away from 0 and 1, so a batch norm that
    were ignored or misread would show"""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.25)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.2)


def main():
    out, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
    os.makedirs(out, exist_ok=True)
    for name, cls, shape, fold in NETS:
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        model = cls()
        with torch.no_grad():
            randomise_bn(model, g)
        if hasattr(model, "sharpen"):
            model.sharpen()
        model.eval()
        x = torch.rand((2,) + shape, generator=g)
        with torch.no_grad():
            y = model(x)
            probs = y if name != "xception_dw" and name != "xception_dw_folded" else torch.softmax(y, 1)
        path = os.path.join(out, name + ".onnx")
        # folded: PyTorch's default (batch norms folded into the convolutions);
        # otherwise the graph keeps its BatchNormalization nodes
        torch.onnx.export(model, x, path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=14,
                          do_constant_folding=fold,
                          training=torch.onnx.TrainingMode.EVAL if fold else
                          torch.onnx.TrainingMode.PRESERVE)
        x.numpy().astype("float32").tofile(os.path.join(out, name + ".input.f32"))
        probs.numpy().astype("float32").tofile(os.path.join(out, name + ".probs.f32"))
        print(f"{name}: input {list(x.shape)}, {probs.shape[1]} classes, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
