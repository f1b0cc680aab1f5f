#!/bin/sh
# Turns each redis/NAME.lua into two C macros: JOI_LUA_NAME (the script text)
# and JOI_LUA_NAME_SHA (its SHA-1, for EVALSHA).  Usage: embed-lua.sh OUT FILE...
set -eu
out=$1
shift
{
    echo "/* Generated from the redis/ Lua scripts by scripts/embed-lua.sh: do not edit. */"
    for f in "$@"; do
        name=$(basename "$f" .lua | tr 'a-z' 'A-Z')
        sha=$(sha1sum "$f" | cut -d' ' -f1)
        echo "#define JOI_LUA_${name}_SHA \"$sha\""
        echo "#define JOI_LUA_${name} \\"
        sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n" \\/' "$f"
        echo '    ""'
    done
} >"$out.tmp"
mv "$out.tmp" "$out"
