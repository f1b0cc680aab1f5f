#!/bin/sh
# Turns each redis/NAME.lua into a C array joi_lua_name[] (the script text,
# NUL-terminated, without its comment lines and indentation) with two macros:
# JOI_LUA_NAME (the text) and JOI_LUA_NAME_SHA (the SHA-1 of exactly that
# text, for EVALSHA).  An array, not a string literal: scripts may be longer
# than the 4095 characters C promises for a literal.
# Usage: embed-lua.sh OUT FILE...
set -eu
out=$1
shift
tmp=$out.lua.tmp
{
    echo "/* Generated from the redis/ Lua scripts by scripts/embed-lua.sh: do not edit. */"
    for f in "$@"; do
        base=$(basename "$f" .lua)
        name=$(echo "$base" | tr 'a-z' 'A-Z')
        sed -e 's/^[[:space:]]*//' -e '/^--/d' -e '/^$/d' "$f" >"$tmp"
        sha=$(sha1sum "$tmp" | cut -d' ' -f1)
        echo "#define JOI_LUA_${name}_SHA \"$sha\""
        echo "static const char joi_lua_${base}[] = {"
        od -An -v -tx1 "$tmp" | sed -e 's/ *$//' -e 's/ \([0-9a-f][0-9a-f]\)/0x\1, /g' -e 's/^/    /'
        echo "    0};"
        echo "#define JOI_LUA_${name} joi_lua_${base}"
    done
} >"$out.tmp"
rm -f "$tmp"
mv "$out.tmp" "$out"
