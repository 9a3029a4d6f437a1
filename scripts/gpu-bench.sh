#!/usr/bin/env bash
# Prepared for a machine with an NVIDIA GPU (not yet run: no such machine was available
# when it was written). Compares laaf on --backend webgpu with PyTorch on CUDA, same run:
# Burgers 6×20 with 10k + 400 points on the WGSL step (wgsl-step: 9 dispatches and nothing
# read back per Adam step) and on the tfjs-webgpu fallback, and the matrix width {20, 50} ×
# depth {4, 8} × points {2k, 10k, 40k, 200k} on the WGSL step, N-LAAF (n = 10) + slope
# recovery. The table has the dispatches and bytes read back per step beside the times.
#
# Needs: node >= 20 and this folder after `npm install` (node_modules travels with it);
# the Vulkan loader (libvulkan1) and the NVIDIA driver's Vulkan ICD (with the driver
# under /usr/local/nvidia: VK_ICD_FILENAMES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json);
# python3 with a CUDA build of torch for ../shared/bench/torch_burgers_step.py.
#
#   scripts/gpu-bench.sh [OUT.md]        (default bench-gpu.md)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-gpu.md}"
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f "$icd" ]; then export VK_ICD_FILENAMES="$icd"; fi
[ -d dist ] || npm run build
node scripts/webgpu-adapter.mjs          # the adapter, or exit 1: no Vulkan driver
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' || true
node dist/bench/webgpu.js --nvidia --write "$out"
echo "wrote $out"
