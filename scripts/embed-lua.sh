#!/bin/sh
# Turns each redis/NAME.lua into two C macros: JOI_LUA_NAME (the script text,
# without its comment lines and indentation, to keep the string short) and
# JOI_LUA_NAME_SHA (the SHA-1 of exactly that text, for EVALSHA).
# Usage: embed-lua.sh OUT FILE...
set -eu
out=$1
shift
tmp=$out.lua.tmp
{
    echo "/* Generated from the redis/ Lua scripts by scripts/embed-lua.sh: do not edit. */"
    for f in "$@"; do
        name=$(basename "$f" .lua | tr 'a-z' 'A-Z')
        sed -e 's/^[[:space:]]*//' -e '/^--/d' -e '/^$/d' "$f" >"$tmp"
        sha=$(sha1sum "$tmp" | cut -d' ' -f1)
        echo "#define JOI_LUA_${name}_SHA \"$sha\""
        echo "#define JOI_LUA_${name} \\"
        sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n" \\/' "$tmp"
        echo '    ""'
    done
} >"$out.tmp"
rm -f "$tmp"
mv "$out.tmp" "$out"
