#!/usr/bin/env bash
# ./run_all.sh [PROFILE] [key=value | -p key=value ...]   full reproduction (default profile: cpu)
# ./run_all.sh test                                       unit tests + nbval over the smoke notebooks
# ./run_all.sh bench                                      benchmarks -> outputs/bench/bench.{json,md}
# ./run_all.sh sweep [PROFILE] [key=value ...] [--only X]  searches' trainings as jobs (executor=local|slurm)
# Both set up .venv (and Fashion-MNIST) first if needed.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"

setup_env() {
  local stamp="$VENV/.requirements.sha"
  local want
  want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -x "$PY" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== setting up $VENV (first run takes a few minutes)"
    python3 -m venv "$VENV"
    # (the filter drops pip's notes about package-index locations this machine does not have)
    "$PY" -m pip install --quiet -r requirements.txt 2> >(grep -v "neither a file nor a directory" >&2)
    "$PY" -m pip install --quiet --no-deps -e . 2> >(grep -v "neither a file nor a directory" >&2)
    echo "$want" > "$stamp"
  fi
  export PATH="$PWD/$VENV/bin:$PATH"
}

ensure_fashion_mnist() {
  local sys_dir=/usr/share/datasets/fashion-mnist
  [ -f "$sys_dir/train-images-idx3-ubyte.gz" ] && return 0
  [ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's dataset-fashion-mnist"
    (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 || true
    [ -f "$sys_dir/train-images-idx3-ubyte.gz" ] && return 0
  fi
  echo "== trying torchvision's Fashion-MNIST download into data/"
  "$PY" - <<'EOF' || true
import torchvision
for train in (True, False):
    torchvision.datasets.FashionMNIST(root="data", train=train, download=True)
EOF
  [ -f data/FashionMNIST/raw/train-images-idx3-ubyte.gz ] && return 0
  echo "error: Fashion-MNIST is not available. As root: apt-get install dataset-fashion-mnist," >&2
  echo "       or copy the four IDX .gz files into data/fashion-mnist/." >&2
  exit 1
}

setup_env
ensure_fashion_mnist
export PYTHONHASHSEED=0 MPLBACKEND=Agg

case "${1:-cpu}" in
  test)
    shift || true
    # Notebooks first (nbval, smoke profile), then the unit tests, which also check
    # the results files the smoke notebooks wrote, with explicit tolerances.
    MTL_REQUIRE_SMOKE_RESULTS=1 "$PY" -m pytest notebooks/ tests/ --nbval --nbval-current-env \
      --nbval-sanitize-with tests/nbval_sanitize.cfg -q "$@"
    ;;
  bench)
    exec "$PY" -m bench.run
    ;;
  sweep)
    shift
    exec "$PY" -m lib.sweep "$@"
    ;;
  *)
    exec "$PY" -m lib.run "$@"
    ;;
esac
