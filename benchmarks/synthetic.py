"""How long generating the embedded course data takes (target: under 10 s on one core).

Run: python benchmarks/synthetic.py   (prints times; asserts nothing)

Each measurement starts from cold caches, so it includes the shared latents
that the generator (`helpers.data.synthetic`, which `helpers.synthetic` re-exports) computes once per seed and
reuses across artifacts.
"""
from __future__ import annotations

import os
import tempfile
import time

# One core, as the target says; set before numpy loads its BLAS.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from helpers.data import synthetic  # noqa: E402


def cold():
    synthetic.clear_caches()


def main():
    cold()
    per_name = {}
    for name in synthetic.NAMES:
        t0 = time.perf_counter()
        synthetic.arrays(name)
        per_name[name] = time.perf_counter() - t0
    for name, sec in per_name.items():
        print(f"arrays({name!r}):{'':<{22 - len(name)}} {sec:6.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        cold()
        t0 = time.perf_counter()
        paths = synthetic.write_all(tmp)
        total = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in paths.values())
    print(f"write_all (cold, {len(paths)} files, {size / 1e6:.0f} MB): {total:.2f} s "
          f"(target < 10 s; {10 / total:.1f}x headroom)")


if __name__ == "__main__":
    main()
