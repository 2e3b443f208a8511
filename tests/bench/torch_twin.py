#!/usr/bin/python3
"""torch_twin: the PyTorch twin of an emocam .arch file, for speed comparison.

Reads the same architecture text (format v1, assets/arch/README.md), builds
the equivalent torch.nn model and prints, as JSON, the figures bench_nn
prints: median batch-1 inference ms, batch-256 inference images/s and
batch-64 training images/s (cross-entropy + AdamW).

usage: /usr/bin/python3 torch_twin.py FILE.arch [--threads N] [--classes K] [--repeats R]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn


def build(text, classes):
    layers, c, h, w = [], None, None, None
    for lineno, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        kind, args = words[0], words[1:]
        if kind == "input":
            h, w, c = (int(a) for a in args)
            continue
        if kind == "conv":
            out, k, s = (int(a) for a in args)
            layers.append(nn.Conv2d(c, out, k, s, k // 2))
            c, h, w = out, (h - 1) // s + 1, (w - 1) // s + 1
        elif kind == "dwconv":
            k, s = (int(a) for a in args)
            layers.append(nn.Conv2d(c, c, k, s, k // 2, groups=c))
            h, w = (h - 1) // s + 1, (w - 1) // s + 1
        elif kind == "bn":
            layers.append(nn.BatchNorm2d(c, eps=1e-5, momentum=0.1))
        elif kind == "relu":
            layers.append(nn.ReLU(inplace=True))
        elif kind == "maxpool":
            s = int(args[0])
            layers.append(nn.MaxPool2d(s, s))
            h, w = h // s, w // s
        elif kind == "dropout":
            layers.append(nn.Dropout(float(args[0])))
        elif kind == "gap":
            layers.append(nn.AdaptiveAvgPool2d(1))
            h = w = 1
        elif kind == "dense":
            n = classes if args[0] == "classes" else int(args[0])
            layers += [nn.Flatten(), nn.Linear(c * h * w, n)]
            c, h, w = n, 1, 1
        elif kind == "softmax":
            pass  # the loss applies it in training; inference adds it below
        else:
            sys.exit(f"line {lineno}: unknown layer {kind}")
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--classes", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    text = open(a.arch).read()
    model = build(text, a.classes)
    inp = next(l for l in text.splitlines() if l.split("#")[0].split()[:1] == ["input"]).split()
    h, w, c = int(inp[1]), int(inp[2]), int(inp[3])
    params = sum(p.numel() for p in model.parameters())

    x256 = torch.rand(256, c, h, w)
    model.eval()
    with torch.no_grad():
        model(x256).softmax(1)
        t = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            model(x256).softmax(1)
            t.append(time.perf_counter() - t0)
        b256 = 256 / statistics.median(t)
        x1 = x256[:1].clone()
        for _ in range(5):
            model(x1).softmax(1)
        t = []
        for i in range(20 * a.repeats):
            x1 = x256[i % 256:i % 256 + 1]
            t0 = time.perf_counter()
            model(x1).softmax(1)
            t.append(time.perf_counter() - t0)
        b1 = 1e3 * statistics.median(t)

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    x64, y64 = x256[:64], torch.arange(64) % a.classes
    t = []
    for i in range(a.repeats + 2):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x64), y64)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if i >= 2:
            t.append(time.perf_counter() - t0)
    train = 64 / statistics.median(t)
    print(json.dumps({"impl": f"torch-{torch.__version__}", "arch": a.arch,
                      "threads": torch.get_num_threads(), "params": params,
                      "infer_b1_ms": round(b1, 3), "infer_b256_images_per_s": round(b256, 1),
                      "train_b64_images_per_s": round(train, 1)}))


if __name__ == "__main__":
    main()
