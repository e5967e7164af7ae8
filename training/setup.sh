#!/usr/bin/env bash
# Installs the training toolchain from Debian (PyPI is not used). Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! /usr/bin/python3 -c 'import torch, torchvision, onnx, matplotlib' 2>/dev/null; then
  apt-get update -qq
  # libopenblas0-pthread: Debian's torch otherwise falls back to reference BLAS (1.6x slower).
  apt-get install -y -qq --no-install-recommends python3-torch python3-torchvision python3-onnx \
    python3-matplotlib python3-pil libopenblas0-pthread
fi
/usr/bin/python3 -c 'import torch, onnx; print("torch", torch.__version__, "onnx", onnx.__version__)'
