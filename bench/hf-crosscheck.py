#!/usr/bin/env python3
"""Check a textdream model folder against Hugging Face transformers, an implementation that shares no code with ours.

For each `textdream forward --json` output given (made here with our runtime), the folder is loaded by
transformers' GPT2LMHeadModel and tokenizers' Tokenizer and the same text is run: token ids must be equal, and the
next-token loss and every reported MLP activation (blocks.L.mlp.hook_post = the output of the MLP's GELU) must agree.
With --heldout (a train-lm token cache file, {"tokens": [...]}) and --ours (`textdream eval-lm --json` on the same
split), the held-out perplexity is recomputed the way eval-lm windows it (non-overlapping windows of the model's
context, every next-token target scored) and compared.
Prints one JSON document. Needs torch, transformers and tokenizers (it runs wherever they are installed; a GPU is
used when present, in float32 with TF32 off).

  python3 bench/hf-crosscheck.py <model folder> [--heldout tokens.json --ours eval-lm.json] forward-1.json [...]
"""
import json
import math
import sys

import torch
from tokenizers import Tokenizer
from transformers import GPT2LMHeadModel


def heldout_perplexity(model, tokens: list[int], context: int, device: str) -> dict:
    """eval-lm's windows: n = (len - 1) // context non-overlapping windows, targets shifted by one."""
    stream = torch.tensor(tokens, dtype=torch.long)
    n = (len(tokens) - 1) // context
    nats, count = 0.0, 0
    with torch.no_grad():
        for w in range(0, n, 64):
            rows = min(64, n - w)
            x = torch.stack([stream[(w + r) * context:(w + r + 1) * context] for r in range(rows)]).to(device)
            y = torch.stack([stream[(w + r) * context + 1:(w + r + 1) * context + 1] for r in range(rows)]).to(device)
            logits = model(x).logits.float()
            nats += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction='sum').item()
            count += rows * context
    return {'targets': count, 'natsPerToken': nats / count, 'perplexity': math.exp(nats / count)}


def main() -> None:
    args = sys.argv[1:]
    opts = {}
    for flag in ('--heldout', '--ours'):
        if flag in args:
            i = args.index(flag)
            opts[flag] = args[i + 1]
            del args[i:i + 2]
    folder, outputs = args[0], args[1:]
    if not outputs:
        sys.exit('usage: hf-crosscheck.py <model folder> forward.json [...]')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    # Loaded as stored (F16 for the shipped models), then computed in float32 like our runtime.
    model = GPT2LMHeadModel.from_pretrained(folder).float().to(device).eval()
    tok = Tokenizer.from_file(f'{folder}/tokenizer.json')
    acts: dict[int, torch.Tensor] = {}
    for i, block in enumerate(model.transformer.h):
        block.mlp.act.register_forward_hook(lambda _m, _inp, out, i=i: acts.__setitem__(i, out.detach()))

    report = {'model': folder, 'device': torch.cuda.get_device_name() if device == 'cuda' else 'cpu',
              'torch': torch.__version__, 'texts': []}
    for path in outputs:
        ours = json.load(open(path))
        text = ''.join(t['text'] for t in ours['tokens'])
        ids = tok.encode(text).ids
        with torch.no_grad():
            x = torch.tensor([ours['ids']], device=device)
            out = model(x, labels=x)
        layer = ours['layer']
        diffs = [abs(acts[layer][0, t['position'], n['neuron']].item() - n['value'])
                 for t in ours['tokens'] for n in t['neurons']]
        report['texts'].append({
            'file': path, 'tokens': len(ids), 'idsEqual': ids == ours['ids'], 'layer': layer,
            'lossOurs': ours['loss'], 'lossHF': out.loss.item(), 'lossAbsDiff': abs(out.loss.item() - ours['loss']),
            'activations': len(diffs), 'activationMaxAbsDiff': max(diffs),
        })
    if '--heldout' in opts:
        hf = heldout_perplexity(model, json.load(open(opts['--heldout']))['tokens'], model.config.n_positions, device)
        report['heldOut'] = {'hf': hf}
        if '--ours' in opts:
            ours = json.load(open(opts['--ours']))
            report['heldOut']['ours'] = {'targets': ours['heldOutTokens'], **ours['model']}
            report['heldOut']['natsAbsDiff'] = abs(ours['model']['natsPerToken'] - hf['natsPerToken'])
    t = report['texts']
    report['allIdsEqual'] = all(r['idsEqual'] for r in t)
    report['maxLossAbsDiff'] = max(r['lossAbsDiff'] for r in t)
    report['maxActivationAbsDiff'] = max(r['activationMaxAbsDiff'] for r in t)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
