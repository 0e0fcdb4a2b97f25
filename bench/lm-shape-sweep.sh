#!/usr/bin/env bash
# Short sweep of default-model shapes at equal compute, judged on held-out loss (issue: a stronger default model).
# Each shape trains on the `english` corpus for as many tokens as the same FLOP budget buys it, then
# `textdream eval-lm` scores it on the Brown + SOTU held-out documents. One JSON line per shape on stdout.
#   usage: bench/lm-shape-sweep.sh <work dir> [budget in 4x192-equivalent steps, default 600]
# Pin it to one core (taskset -c 1 …) to leave the other free. Resumable: a shape already trained is re-evaluated only.
set -euo pipefail
work=${1:?usage: bench/lm-shape-sweep.sh <work dir> [steps]}
base_steps=${2:-600}
cd "$(dirname "$0")/.."
batch=8
context=128
# Training FLOPs per token ≈ 6·(12·L·d² + V·d) + 12·L·T·d (matmuls forward and backward, the tied vocabulary
# projection, attention scores); the step count of each shape gives it the FLOPs of base_steps steps of 4 × 192.
flops() { echo "6 * (12 * $1 * $2 * $2 + 50257 * $2) + 12 * $1 * $context * $2" | bc; }
ref=$(flops 4 192)
for shape in 4x192 6x192 4x256; do
  L=${shape%x*}; d=${shape#*x}
  steps=$(echo "$base_steps * $ref / $(flops "$L" "$d")" | bc)
  dir="$work/$shape"
  # One token cache for every shape (same corpus, same split).
  mkdir -p "$dir" "$work/tokens"; [ -e "$dir/tokens" ] || ln -s "$work/tokens" "$dir/tokens"
  if [ ! -f "$dir/model/config.json" ]; then
    npx textdream train-lm --backend "${TEXTDREAM_BACKEND:-auto}" --corpus english --layers "$L" --d-model "$d" --heads $((d / 64)) \
      --context $context --batch $batch --steps "$steps" --work "$dir" --out "$dir/model" >"$dir.train.log" 2>&1 || { tail "$dir.train.log" >&2; exit 1; }
  fi
  npx textdream eval-lm --backend "${TEXTDREAM_BACKEND:-auto}" --model "$dir/model" --corpus brown+sotu --work "$work" --max-tokens 200000 --json 2>"$dir.eval.log" \
    | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const e=JSON.parse(s);console.log(JSON.stringify({shape:'$shape',layers:$L,dModel:$d,context:$context,batch:$batch,steps:$steps,tokens:$steps*$batch*$context,flopsPerToken:$(flops "$L" "$d"),heldOutNats:e.model.natsPerToken,perplexity:e.model.perplexity,bigramPerplexity:e.bigram.perplexity,ratioToBigram:e.model.perplexity/e.bigram.perplexity,heldOutTokens:e.heldOutTokens}))})"
done
