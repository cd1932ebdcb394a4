#!/usr/bin/env bash
# Cluster mode on one machine: a Chroma server, an embeddings server and an OpenAI-compatible
# generation server, started together and stopped together (Ctrl-C, SIGTERM, or any of them exiting).
# Each can run on its own machine instead: the three commands below are all there is (docs/deploy.md).
#
#   LLM_MODEL=path/to/model.gguf deploy/cluster.sh
#
# Settings (environment):
#   HOST            bind address of all three               (127.0.0.1)
#   DATA            Chroma data and the logs                 (./cluster-data)
#   CHROMA_PORT     Chroma server                            (8000)
#   EMBED_PORT      embeddings server (/v1/embeddings)       (8081)
#   EMBED_WORKERS   embeddings worker processes              (1)
#   EMBED_BACKEND   local | onnx, what each worker runs      (local)
#   LLM_PORT        generation server (/v1/chat/completions) (8080)
#   LLM_MODEL       GGUF file the generation server loads    (required)
#   LLM_ALIAS       model name clients ask for               (the GGUF file's stem)
#   LLM_CTX         context window                           (4096)
#   BIN             folder holding python, chroma and paperqa-local (.venv/bin)
set -euo pipefail

HOST=${HOST:-127.0.0.1}
DATA=${DATA:-./cluster-data}
CHROMA_PORT=${CHROMA_PORT:-8000}
EMBED_PORT=${EMBED_PORT:-8081}
EMBED_WORKERS=${EMBED_WORKERS:-1}
EMBED_BACKEND=${EMBED_BACKEND:-local}
LLM_PORT=${LLM_PORT:-8080}
LLM_MODEL=${LLM_MODEL:?set LLM_MODEL to a GGUF file (paperqa-local models list shows the models folder)}
LLM_ALIAS=${LLM_ALIAS:-$(basename "${LLM_MODEL%.gguf}")}
LLM_CTX=${LLM_CTX:-4096}
BIN=${BIN:-.venv/bin}

mkdir -p "$DATA"
pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM  # exiting runs stop

"$BIN/chroma" run --host "$HOST" --port "$CHROMA_PORT" --path "$DATA/chroma" \
    >"$DATA/chroma.log" 2>&1 &
pids+=($!)
"$BIN/paperqa-local" --embed-backend "$EMBED_BACKEND" serve-embeddings \
    --host "$HOST" --port "$EMBED_PORT" --workers "$EMBED_WORKERS" \
    >"$DATA/embeddings.log" 2>&1 &
pids+=($!)
# --interrupt_requests False: by default llama_cpp.server cuts a running stream short when another
# request arrives; concurrent clients must each get their whole answer (it queues them instead).
"$BIN/python" -m llama_cpp.server --model "$LLM_MODEL" --model_alias "$LLM_ALIAS" --n_ctx "$LLM_CTX" \
    --host "$HOST" --port "$LLM_PORT" --interrupt_requests False \
    >"$DATA/llm.log" 2>&1 &
pids+=($!)

cat <<INFO
chroma      http://$HOST:$CHROMA_PORT        log $DATA/chroma.log
embeddings  http://$HOST:$EMBED_PORT/v1     log $DATA/embeddings.log
generation  http://$HOST:$LLM_PORT/v1     log $DATA/llm.log  (model name: $LLM_ALIAS)

paperqa-local settings for this cluster (settings.toml or flags):
  chroma_url = "http://$HOST:$CHROMA_PORT"
  embed_backend = "openai"
  embed_base_url = "http://$HOST:$EMBED_PORT/v1"
  llm = "openai"
  openai_base_url = "http://$HOST:$LLM_PORT/v1"
  openai_model = "$LLM_ALIAS"
  openai_repeat_penalty = 1.0
INFO

# the first one to exit stops the others
wait -n || true
echo "a cluster service exited; stopping the others (see the logs in $DATA)" >&2
exit 1
