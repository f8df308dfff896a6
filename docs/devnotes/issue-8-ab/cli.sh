#!/bin/sh
# usage: cli.sh TREE [SYSTEMS]  -- `holopipe run` full (9 Chain stages) then the no-op rerun, each under /usr/bin/time
PY=${PY:-python}; N=${2:-1000}
dir=$(mktemp -d) && cd $dir || exit 1
$PY -c "import json; json.dump({'seed': 1, 'pipeline': [f'holopipe.testing:Chain{i:02d}' for i in range(1, 10)], 'stages': {'01': {'n_systems': $N}}}, open('config.json', 'w'))"
export PYTHONPATH=$1/src
/usr/bin/time -f "$1 full: user %U sys %S wall %e" $PY -m holopipe run -e bench --config config.json --runs-dir runs >/dev/null
/usr/bin/time -f "$1 no-op: user %U sys %S wall %e" $PY -m holopipe run -e bench --runs-dir runs >/dev/null
cd / && rm -rf $dir
