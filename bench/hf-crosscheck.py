#!/usr/bin/env python3
"""Check a textdream model folder against Hugging Face transformers, an implementation that shares no code with ours.

For each `textdream forward --json` output given (made here with our runtime), the folder is loaded by
transformers' GPT2LMHeadModel and tokenizers' Tokenizer and the same text is run: token ids must be equal, and the
next-token loss and every reported MLP activation (blocks.L.mlp.hook_post = the output of the MLP's GELU) must agree.
Prints one JSON document. Needs torch, transformers and tokenizers (it runs wherever they are installed; a GPU is
used when present, in float32 with TF32 off).

  python3 bench/hf-crosscheck.py <model folder> forward-1.json [forward-2.json ...]
"""
import json
import sys

import torch
from tokenizers import Tokenizer
from transformers import GPT2LMHeadModel


def main() -> None:
    folder, outputs = sys.argv[1], sys.argv[2:]
    if not outputs:
        sys.exit('usage: hf-crosscheck.py <model folder> forward.json [...]')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = GPT2LMHeadModel.from_pretrained(folder, torch_dtype=torch.float32).to(device).eval()
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
    t = report['texts']
    report['allIdsEqual'] = all(r['idsEqual'] for r in t)
    report['maxLossAbsDiff'] = max(r['lossAbsDiff'] for r in t)
    report['maxActivationAbsDiff'] = max(r['activationMaxAbsDiff'] for r in t)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
