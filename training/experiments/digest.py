"""One sha256 per output of a training run folder, for comparing two runs (EQUIVALENCE.md):
JSON without its timings and absolute paths (`cv_seconds`, `wall_seconds`, `features_path`),
every array of an npz, every tensor of a checkpoint, any other file's bytes.

    PYTHONPATH=training python -m experiments.digest RUN_DIR
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

UNSTABLE = {"cv_seconds", "wall_seconds", "features_path"}


def stable(o):
    if isinstance(o, dict):
        return {k: stable(v) for k, v in o.items() if k not in UNSTABLE}
    if isinstance(o, list):
        return [stable(v) for v in o]
    return o


def digest(path: Path) -> str:
    h = hashlib.sha256()
    if path.suffix == ".json":
        h.update(json.dumps(stable(json.loads(path.read_text())), sort_keys=True, ensure_ascii=False).encode())
    elif path.suffix == ".npz":
        z = np.load(path, allow_pickle=False)
        for k in sorted(z.files):
            h.update(k.encode())
            h.update(np.ascontiguousarray(z[k]).tobytes())
    elif path.suffix == ".pt":
        import torch

        def walk(o, key=""):
            if isinstance(o, dict):
                for k in sorted(o):
                    walk(o[k], f"{key}/{k}")
            elif isinstance(o, (list, tuple)):
                for i, v in enumerate(o):
                    walk(v, f"{key}/{i}")
            else:
                h.update(key.encode())
                h.update(o.numpy().tobytes() if isinstance(o, torch.Tensor) else repr(o).encode())

        walk(torch.load(path, map_location="cpu", weights_only=True))
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


if __name__ == "__main__":
    root = Path(sys.argv[1])
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in {".json", ".npz", ".pt", ".onnx", ".md"}:
            print(digest(p), p.relative_to(root))
