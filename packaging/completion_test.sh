#!/usr/bin/env bash
# The bash completions offer what the tools themselves accept: run with the
# directories of switchtab and switchctl first in PATH.
#   completion_test.sh COMPLETIONS_DIR
set -uo pipefail
dir=$1
. "$dir/switchtab"
. "$dir/switchctl"
failed=0

# expect_words WORDS... -- EXPECTED...: completing the last WORD offers every EXPECTED word.
expect_words() {
  local words=() func
  while [ "$1" != -- ]; do words+=("$1"); shift; done
  shift
  COMP_WORDS=("${words[@]}")
  COMP_CWORD=$((${#words[@]} - 1))
  COMPREPLY=()
  func=_${words[0]}
  "$func"
  for want in "$@"; do
    if ! printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$want"; then
      echo "FAIL: '${words[*]}' does not offer '$want' (offered: ${COMPREPLY[*]})"
      failed=1
    fi
  done
}

expect_words switchtab "" -- compile dump info generate diff --help --version
expect_words switchtab co -- compile
expect_words switchctl lun0 "" -- table paths stats heatmap
expect_words switchctl --json lun0 table "" -- summary load map set save
expect_words switchctl lun0 paths "" -- status fail restore disable
expect_words switchctl --j -- --json
[ "$failed" = 0 ] && echo "completion: all offered"
exit $failed
