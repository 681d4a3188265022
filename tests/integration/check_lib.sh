# Shared by the integration scripts: `fail MESSAGE` prints one line "FAIL: MESSAGE" and
# counts it in $failures; a script ends with exit $((failures > 0)).
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
