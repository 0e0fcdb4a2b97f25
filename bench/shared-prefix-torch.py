#!/usr/bin/env python3
"""The PyTorch column of bench/shared-prefix.ts: the same candidates, evaluated in full and from shared prefixes.

bench/shared-prefix.ts --pytorch <python> writes the members, the candidate batches and the target to a JSON file
and runs this script on it. Here the model folder's safetensors are read with numpy (no transformers: a plain GPT-2
forward that can continue from past keys and values), and each batch is evaluated as textdream does: every candidate
after <|endoftext|>, its per-token activation of blocks.L.mlp.hook_post (the MLP's GELU output) and next-token loss;
in full (one padded batch), and shared (the members once with their keys and values kept, then each candidate from
its first difference on, grouped into at most `maxRuns` runs by the same dynamic programme, every loss not known
in one unembedding pass over the same states). Timings are medians over the batches, alternating, on `--threads` CPU threads (default 1, as
the TypeScript side runs on one core). Prints one JSON object.

  python3 bench/shared-prefix-torch.py <model folder> <batches.json> [--threads 1]
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch

DTYPES = {'F32': np.float32, 'F16': np.float16, 'BF16': None}


def read_safetensors(path: str) -> dict:
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        a, b = meta['data_offsets']
        raw = data[a:b]
        if meta['dtype'] == 'BF16':
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[meta['dtype']]).astype(np.float32)
        out[name.removeprefix('transformer.')] = torch.from_numpy(arr.reshape(meta['shape']).copy())
    return out


class GPT2:
    def __init__(self, folder: str):
        cfg = json.load(open(f'{folder}/config.json'))
        self.w = read_safetensors(f'{folder}/model.safetensors')
        self.n_layer, self.n_head, self.d = cfg['n_layer'], cfg['n_head'], cfg['n_embd']
        self.eps = cfg.get('layer_norm_epsilon', 1e-5)
        self.bos = cfg.get('bos_token_id', 50256)

    def ln(self, x, name):
        return torch.nn.functional.layer_norm(x, (self.d,), self.w[f'{name}.weight'], self.w[f'{name}.bias'], self.eps)

    def run(self, ids, layer, past=None, start=0):
        """ids [B, T] at absolute positions start..start+T-1; returns (final normed states, hook act, kv)."""
        w, H, d = self.w, self.n_head, self.d
        B, T = ids.shape
        x = w['wte.weight'][ids] + w['wpe.weight'][start:start + T]
        kv, act = [], None
        for l in range(self.n_layer):
            p = f'h.{l}'
            q, k, v = (self.ln(x, f'{p}.ln_1') @ w[f'{p}.attn.c_attn.weight'] + w[f'{p}.attn.c_attn.bias']).split(d, dim=-1)
            q, k, v = (t.view(B, T, H, d // H).transpose(1, 2) for t in (q, k, v))
            if past is not None:
                k = torch.cat([past[l][0], k], dim=2)
                v = torch.cat([past[l][1], v], dim=2)
            kv.append((k, v))
            S = k.shape[2]
            mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(d // H)
            att = att.masked_fill(~mask, float('-inf')).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, d)
            x = x + y @ w[f'{p}.attn.c_proj.weight'] + w[f'{p}.attn.c_proj.bias']
            h = torch.nn.functional.gelu(self.ln(x, f'{p}.ln_2') @ w[f'{p}.mlp.c_fc.weight'] + w[f'{p}.mlp.c_fc.bias'], approximate='tanh')
            if l == layer:
                act = h
            x = x + h @ w[f'{p}.mlp.c_proj.weight'] + w[f'{p}.mlp.c_proj.bias']
        return self.ln(x, 'ln_f'), act, kv

    def losses(self, states, targets):
        logits = states @ self.w['wte.weight'].T
        return torch.nn.functional.cross_entropy(logits, targets, reduction='none')

    def pair_losses(self, states, rows, targets):
        """Losses of (row of states, target) pairs: one log-sum-exp per row, one dot product per pair."""
        E = self.w['wte.weight']
        lse = torch.logsumexp(states @ E.T, -1)
        return lse[rows] - (states[rows] * E[targets]).sum(-1)


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i + 1
    return n + 1


def choose_starts(rows, max_runs):
    """The run starts that minimise the positions run in at most max_runs runs (sharedPrefix.ts chooseStarts)."""
    if not rows:
        return []
    ps = sorted({p for p, _ in rows})

    def cost(i, j):
        inrun = [(p, n) for p, n in rows if ps[i] <= p <= ps[j]]
        return len(inrun) * max(n - ps[i] + 1 for _, n in inrun)

    K = len(ps)
    runs = max(1, min(max_runs, K))
    best = [[math.inf] * K for _ in range(runs + 1)]
    frm = [[0] * K for _ in range(runs + 1)]
    for j in range(K):
        best[1][j] = cost(0, j)
    for k in range(2, runs + 1):
        for j in range(K):
            best[k][j], frm[k][j] = best[k - 1][j], -1
            for i in range(1, j + 1):
                c = best[k - 1][i - 1] + cost(i, j)
                if c < best[k][j]:
                    best[k][j], frm[k][j] = c, i
    out, j = [], K - 1
    for k in range(runs, 0, -1):
        if j < 0:
            break
        if k == 1:
            out.append(ps[0])
            break
        i = frm[k][j]
        if i < 0:
            continue
        out.append(ps[i])
        j = i - 1
    return sorted(out)


def bos_padded(m, seqs):
    """Rows of <|endoftext|> + the sequence, padded; each position's next-token target (0 where there is none)."""
    T = 1 + max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), m.bos, dtype=torch.long)
    nxt = torch.zeros((len(seqs), T), dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[b, 1:1 + len(s)] = torch.tensor(s)
        nxt[b, :len(s)] = torch.tensor(s)
    return ids, nxt, T


def full(m, seqs, layer, neuron):
    ids, nxt, T = bos_padded(m, seqs)
    states, act, _ = m.run(ids, layer)
    loss = m.losses(states.reshape(-1, m.d), nxt.reshape(-1)).view(len(seqs), T)
    return [(act[b, 1:1 + len(s), neuron].tolist(), loss[b, :len(s)].tolist()) for b, s in enumerate(seqs)]


def shared(m, seqs, bases, owner, layer, neuron, max_runs, base_losses=None):
    p = [first_difference(s, bases[o]) for s, o in zip(seqs, owner)]
    starts = choose_starts([(p[i], len(s)) for i, s in enumerate(seqs) if p[i] <= len(s)], max_runs)
    bids, _, Tb = bos_padded(m, bases)
    bstates, bact, bkv = m.run(bids, layer)
    bflat = bstates.reshape(-1, m.d)
    # The losses still unknown, as (state row, target) pairs, chosen as measureIdsShared chooses them: the bases'
    # positions when their losses are not given; per candidate its positions from the edit to its last but one; and
    # once per (base, edit position) the base's state before the edit, which predicts the edited token.
    parts, rows, targets, dest, n = [], [], [], [], 0
    if base_losses is None:
        parts.append(bflat)
        n = len(bases) * Tb
        for o, b in enumerate(bases):
            for j, t in enumerate(b):
                rows.append(o * Tb + j), targets.append(t), dest.append((-1 - o, j))
    base_state, base_gather = {}, []
    for i, s in enumerate(seqs):
        if p[i] > len(s):
            continue
        at = owner[i] * Tb + p[i] - 1
        row = at if base_losses is None else base_state.get(at)
        if row is None:
            row = base_state[at] = n
            n += 1
            base_gather.append(at)
        rows.append(row), targets.append(s[p[i] - 1]), dest.append((i, p[i] - 1))
    if base_gather:
        parts.append(bflat[base_gather])
    groups = []
    for s0 in starts:
        members = [i for i in range(len(seqs)) if p[i] <= len(seqs[i]) and max(x for x in starts if x <= p[i]) == s0]
        if not members:
            continue
        L = max(len(seqs[i]) - s0 + 1 for i in members)
        ids = torch.full((len(members), L), m.bos, dtype=torch.long)
        for b, i in enumerate(members):
            r = seqs[i]
            for j in range(L):
                if s0 + j <= len(r):
                    ids[b, j] = r[s0 + j - 1]
        who = torch.tensor([owner[i] for i in members])
        past = [(k[who, :, :s0], v[who, :, :s0]) for k, v in bkv]
        st, act, _ = m.run(ids, layer, past=past, start=s0)
        gather = []
        for b, i in enumerate(members):
            for a in range(p[i], len(seqs[i])):
                gather.append(b * L + a - s0)
                rows.append(n), targets.append(seqs[i][a]), dest.append((i, a))
                n += 1
        if gather:
            parts.append(st.reshape(-1, m.d)[gather])
        groups.append((members, s0, act))
    loss = m.pair_losses(torch.cat(parts), torch.tensor(rows), torch.tensor(targets)).tolist()
    base_losses = base_losses if base_losses is not None else [[None] * len(b) for b in bases]
    ce = [[None] * len(s) for s in seqs]
    for (i, j), x in zip(dest, loss):
        (base_losses[-1 - i] if i < 0 else ce[i])[j] = x
    # Each candidate's activations and losses: the base's before its first difference, its run's from there on.
    bact_n = bact[:, :, neuron].tolist()
    act = [[bact_n[owner[i]][j] if j < Tb else None for j in range(1, len(s) + 1)] for i, s in enumerate(seqs)]
    for i, s in enumerate(seqs):
        for j in range(min(len(s), p[i] - 1)):
            ce[i][j] = base_losses[owner[i]][j]
    for members, s0, a in groups:
        a = a[:, :, neuron].tolist()
        for b, i in enumerate(members):
            for j in range(len(seqs[i]) - s0 + 1):
                act[i][s0 + j - 1] = a[b][j]
    return list(zip(act, ce))


def main():
    folder, batches_file = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[sys.argv.index('--threads') + 1]) if '--threads' in sys.argv else 1
    torch.set_num_threads(threads)
    spec = json.load(open(batches_file))
    m = GPT2(folder)
    layer, neuron, members = spec['layer'], spec['neuron'], spec['members']
    with torch.no_grad():
        # The members' losses, as a search keeps them from the step that measured them.
        member_losses = [l for _, l in full(m, members, layer, neuron)]
        first = full(m, spec['batches'][0]['seqs'], layer, neuron)
        b0 = spec['batches'][0]
        max_diff = 0.0
        for mr in spec['maxRuns']:
            got = shared(m, b0['seqs'], members, b0['owner'], layer, neuron, mr, member_losses)
            for (fa, fl), (sa, sl) in zip(first, got):
                max_diff = max(max_diff, *(abs(x - y) for x, y in zip(fa + fl, sa + sl)))
        for b in spec['batches'][:1]:  # warm-up
            for mr in spec['maxRuns']:
                shared(m, b['seqs'], members, b['owner'], layer, neuron, mr, member_losses)
        full_ms, shared_ms = [], {mr: [] for mr in spec['maxRuns']}
        for b in spec['batches']:
            t = time.perf_counter()
            full(m, b['seqs'], layer, neuron)
            full_ms.append(1000 * (time.perf_counter() - t))
            for mr in spec['maxRuns']:
                t = time.perf_counter()
                shared(m, b['seqs'], members, b['owner'], layer, neuron, mr, member_losses)
                shared_ms[mr].append(1000 * (time.perf_counter() - t))
    med = lambda xs: float(np.median(xs))
    print(json.dumps({
        'torch': torch.__version__,
        'threads': threads,
        'fullMedianMs': med(full_ms),
        'maxAbsDifferenceSharedVsFull': max_diff,
        'variants': [{'maxRuns': mr, 'membersLossesReused': True, 'medianMs': med(v), 'wallClockFasterBy': med(full_ms) / med(v)} for mr, v in shared_ms.items()],
        # The first batch in full, for the TypeScript side to compare with its own (max activation and mean loss per candidate).
        'firstBatch': [{'max': max(a), 'ce': sum(l) / len(l)} for a, l in first],
    }))


if __name__ == '__main__':
    main()
