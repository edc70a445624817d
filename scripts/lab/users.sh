#!/usr/bin/env bash
# users.sh N [FIRST]: sipp injection file with N users, numbered from FIRST
# (default 1), after the "SEQUENTIAL" header line (sipp -inf), one per line:
#   userNNNNNN;pw-userNNNNNN;[authentication username=userNNNNNN password=pw-userNNNNNN]
# field0 user, field1 password (scheme of kamailio-registrar.cfg: "pw-" + user),
# field2 the ready-made sipp auth keyword (sipp 3.6 cannot nest [fieldN]
# inside [authentication ...], but expands keywords inside injected fields).
#
#   scripts/lab/users.sh 200 > users.csv        user000001 .. user000200
#   scripts/lab/users.sh 10 191 > last10.csv    user000191 .. user000200
set -euo pipefail

usage() {
    echo "usage: ${0##*/} N [FIRST]" >&2
    exit 2
}

(($# >= 1 && $# <= 2)) || usage
n=$1
first=${2:-1}
[[ ${n} =~ ^[0-9]+$ && ${first} =~ ^[0-9]+$ ]] || usage
((first >= 1 && first + n - 1 <= 999999)) || usage

echo SEQUENTIAL
awk -v n="${n}" -v f="${first}" 'BEGIN {
    for (i = f; i < f + n; i++) printf "user%06d;pw-user%06d;[authentication username=user%06d password=pw-user%06d]\n", i, i, i, i
}'
