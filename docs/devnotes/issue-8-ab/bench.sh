#!/bin/sh
# usage: bench.sh TREE  -- TREE's own bench_orchestrator.py (9 x 1000), process CPU from /usr/bin/time
PY=${PY:-python}
cd /tmp && PYTHONPATH=$1/src /usr/bin/time -f "$1: user %U sys %S wall %e" $PY $1/benchmarks/bench_orchestrator.py
