"""The forward-backward bench's step in PyTorch + Hugging Face transformers, for a reference column.

Run by bench/forward-backward.ts when TEXTDREAM_PYTHON points at a python with torch and transformers;
prints one JSON object on stdout. Same shapes and the same loss as the TypeScript bench:
loss = -mean(post-GELU neuron) + lambda * mean next-token cross-entropy, Adam on the input embeddings,
weights frozen, random GPT-2 init (N(0, 0.02)). The weights are not the bench's weights: only timing is compared.
"""
import argparse
import json
import statistics
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--d-model", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--d-mlp", type=int, default=3072)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=24)
    ap.add_argument("--layer", type=int, default=3)
    ap.add_argument("--neuron", type=int, default=100)
    ap.add_argument("--lam", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    a = ap.parse_args()

    import torch
    import torch.nn.functional as F
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = GPT2Config(
        vocab_size=a.vocab, n_positions=a.context, n_embd=a.d_model, n_layer=a.layers, n_head=a.heads,
        n_inner=a.d_mlp, activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )
    model = GPT2LMHeadModel(cfg).eval()
    for p in model.parameters():
        p.requires_grad_(False)

    captured = {}
    # GPT2MLP applies self.act between c_fc and c_proj: its output is TransformerLens's mlp.hook_post.
    model.transformer.h[a.layer].mlp.act.register_forward_hook(lambda _m, _i, out: captured.__setitem__("post", out))

    gen = torch.Generator().manual_seed(a.seed + 1)
    ids = torch.randint(0, a.vocab, (a.batch, a.tokens), generator=gen)
    embeds = model.transformer.wte(ids).detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([embeds], lr=a.lr)
    targets = ids[:, 1:].reshape(-1)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        logits = model(inputs_embeds=embeds).logits  # [B, T, V]
        ce = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), targets)
        loss = -captured["post"][:, :, a.neuron].mean() + a.lam * ce
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    runs = []
    loss = float("nan")
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        runs.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "dtype": "float32",
        "python": sys.version.split()[0],
        "loss": loss,
        "msPerStep": {
            "median": round(statistics.median(runs), 1),
            "min": round(min(runs), 1),
            "max": round(max(runs), 1),
            "runs": [round(r, 1) for r in runs],
        },
    }))


if __name__ == "__main__":
    main()
