#!/usr/bin/env bash
# make compat: the whole suite on every Airflow release we promise, each in its own virtual
# environment, then `make live` (real Airflow services) on that release, then a table of the
# results (the compatibility table of docs/installation.md comes from it).
#
#   scripts/compat.sh                 every row below
#   scripts/compat.sh floor newest    only these rows (CI runs the floor; `make test` is the newest)
#   scripts/compat.sh table           no row: the table of the last results
#   DB=postgres scripts/compat.sh     the live part on a throwaway PostgreSQL cluster (scripts/live_postgres.py)
#
# Pins appear only where a release breaks without the constraints file users install it with
# (cryptography 51 made MultiFernet a Rust class, and Airflow 3.0's get_fernet sets an attribute on it).
set -euo pipefail
cd "$(dirname "$0")/.."

#      label  airflow python pins
MATRIX="floor  3.0.6   3.10   fastapi==0.117.1 cadwyn==5.4.6 PyJWT==2.10.1 cryptography<51
3.1    3.1.8   3.11
3.2    3.2.2   3.12   fastapi==0.136.3 svcs==25.1.0
newest 3.3.2   3.13"

ROOT=.venv-compat
RESULTS=$ROOT/results
mkdir -p "$RESULTS"
wanted=" $* "

find_python() {
    # A `pythonX.Y` on PATH, else pyenv's own copy of that version (pyenv shims only run the active one).
    local version=$1 candidate
    for candidate in "python$version" "$HOME"/.pyenv/versions/"$version".*/bin/"python$version"; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys" >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

run_row() {
    local label=$1 airflow=$2 python=$3
    shift 3
    local pins=("$@") interpreter venv stamp want
    venv=$ROOT/airflow-$airflow-py$python
    interpreter=$(find_python "$python") || {
        echo "$label | $airflow | $python | ${pins[*]:-none} | skipped: no Python $python here" >"$RESULTS/$label.row"
        return 0
    }
    want="$airflow ${pins[*]:-} $(sha1sum pyproject.toml | cut -c1-12)"
    stamp=$venv/.compat-stamp
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo ">>> $label: installing apache-airflow==$airflow on Python $python ${pins[*]:+with ${pins[*]}}"
        rm -rf "$venv"
        "$interpreter" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet "apache-airflow==$airflow" -e '.[test]' ${pins[@]+"${pins[@]}"}
        echo "$want" >"$stamp"
    fi
    echo ">>> $label: the suite on Airflow $airflow, Python $python"
    local status=0
    "$venv/bin/python" -m pytest -q -p no:cacheprovider | tee "$RESULTS/$label.log" | tail -n 3 || status=$?
    local summary live=passed
    summary=$(grep -E "^[0-9]+ (passed|failed)|^=+ .*(passed|failed)" "$RESULTS/$label.log" | tail -n 1 | tr -d '=' | xargs)
    # Real services catch what dag.test() cannot (Airflow 3.1's triggerer died of a thread-unsafe call).
    echo ">>> $label: make live on Airflow $airflow${DB:+, DB=$DB}"
    "$venv/bin/python" scripts/live.py >"$RESULTS/$label.live.log" 2>&1 || { live=failed; status=1; }
    tail -n 1 "$RESULTS/$label.live.log"
    echo "$label | $airflow | $python | ${pins[*]:-none} | ${summary:-no result} | $live${DB:+ on $DB} | exit $status" >"$RESULTS/$label.row"
    return "$status"
}

failed=0
while read -r label airflow python pins; do
    [ -z "$label" ] && continue
    if [ "$wanted" != "  " ] && [[ "$wanted" != *" $label "* ]]; then
        continue
    fi
    # shellcheck disable=SC2086  # the pins are words on purpose
    run_row "$label" "$airflow" "$python" $pins || failed=1
done <<<"$MATRIX"

echo
echo "| row | Airflow | Python | pins | result | live | exit |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
while read -r label _; do
    [ -f "$RESULTS/$label.row" ] && sed -e 's/^/| /' -e 's/$/ |/' "$RESULTS/$label.row"
done <<<"$MATRIX"
exit "$failed"
