#!/usr/bin/env bash
# Makes the checked-in fixture archives beside this script, so that the
# archives of bsdtar and busybox tar are tested (by
# kcore/tests/tar_tools.rs, `checked_in_fixtures`) on machines without
# them. Run it once after changing the tree below; it needs bsdtar
# (libarchive-tools), busybox and GNU tar (for the `.tv` listings).
#
# Every regular `*.txt` file holds its own path and a newline, which the
# test checks; `dup.txt` holds `first`, and `second` in the copy appended
# to the `*-append.tar` archives, which the test finds as the later one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"

repeat() { printf "%${2}s" '' | tr ' ' "$1"; }
text() {
    mkdir -p "$(dirname "$tree/$1")"
    printf '%s\n' "$1" >"$tree/$1"
}

long_111="$(repeat p 60)/$(repeat f 46).txt"
long_170="$(repeat q 80)/$(repeat r 80)/file-170.txt"
s70=$(repeat s 70)
long_300="$s70/$s70/$s70/$s70/file-300.txt"
text short.txt
text deep/a/b/c/d/e/f/g/file.txt
text "$long_111"
text "$long_170"
text "$long_300"
text "leaf/$(repeat l 120).txt"
: >"$tree/empty"
ln -s short.txt "$tree/link-short"
ln -s "$long_300" "$tree/link-long"
ln "$tree/short.txt" "$tree/hard-short"
mkfifo "$tree/pipe"
reset_dup() { printf '%s\n' "$1" >"$tree/dup.txt"; touch -d @0 "$tree/dup.txt"; }
reset_dup first
find "$tree" -exec touch -h -d @0 {} +

list() { TZ=UTC tar --numeric-owner -tvf "$1" >"${1%.tar}.tv"; }

# Sparse: five 4 KiB data runs among 12 KiB holes; named to come early.
# Only the restricted-pax archive gets it (the others would store every
# zero, and the fixtures are to stay small).
add_sparse() {
    truncate -s 80K "$tree/0-sparse"
    for at in 0 16384 32768 49152 65536; do
        printf 'data' | dd of="$tree/0-sparse" bs=1 seek="$at" conv=notrunc status=none
    done
    touch -d @0 "$tree/0-sparse" "$tree"
}
remove_sparse() { rm -f "$tree/0-sparse"; touch -d @0 "$tree"; }

for format in ustar gnutar v7; do
    out=$here/bsdtar-$format.tar
    # They leave out what they cannot hold (and say so).
    bsdtar --format="$format" -cf "$out" -C "$tree" . || true
    list "$out"
done

out=$here/bsdtar-pax.tar
bsdtar --format=pax -cf "$out" -C "$tree" .
list "$out"

add_sparse
out=$here/bsdtar-paxr-append.tar
bsdtar --format=paxr -cf "$out" -C "$tree" .
reset_dup second
bsdtar --format=paxr -rf "$out" -C "$tree" dup.txt
reset_dup first
list "$out"
remove_sparse

out=$here/busybox.tar
(cd "$tree" && busybox tar -cf "$out" .)
list "$out"

ls -l "$here"/*.tar
