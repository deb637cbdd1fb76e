#!/usr/bin/env bash
# The whole restorekit test suite: notebooks clean and in sync with the library, the committed
# results checked (without re-running them), every chapter and ablation notebook executed
# (nbdev_test), then the pytest suite. Run from the repository
# root after the README's setup command (it uses .venv/ if present, else the active Python).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then export PATH="$PWD/.venv/bin:$PATH"; fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1

echo "== notebooks clean and library in sync =="
before="$(git status --porcelain --untracked-files=all)"
nbdev_clean
nbdev_export
after="$(git status --porcelain --untracked-files=all)"
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev_clean / nbdev_export changed the tree; run both and commit:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

echo "== committed results: they render, they ran the registry's presets; stale ones are named =="
if compgen -G "results/*/*/runs.jsonl" >/dev/null; then restorekit tables --check --out results; fi

echo "== chapters (nbdev_test nbs) =="
nbdev_test --path nbs --n_workers 2 --timing ${NBDEV_TEST_FLAGS:-}
if compgen -G "ablations/*.ipynb" >/dev/null; then
  echo "== ablation notebooks with their defaults (nbdev_test ablations) =="
  nbdev_test --path ablations --n_workers 2 --timing
fi

echo "== pytest =="
python -m pytest -q tests "$@"
