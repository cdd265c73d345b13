#!/bin/sh
# trunk's post_build hook (see Trunk.toml), run in the staging directory's parent with
# TRUNK_STAGING_DIR set:
# 1. the package catalog the worker fetches on the first command, pre-compressed so that any
#    static host (or a USB stick served locally) sends it gzipped; the worker inflates it;
# 2. the service worker: static/sw.js with the list of the built files and a version made from
#    their contents, so that after the first visit the playground works offline.
set -eu
staging="${TRUNK_STAGING_DIR:?run by trunk}"
root=$(pwd)
gzip -9 -n -c crates/core/data/catalog.txt > "$staging/catalog.txt.gz"
cd "$staging"
files=$(find . -type f ! -name sw.js | sed 's|^\./||' | LC_ALL=C sort)
version=$(printf '%s\n' $files | xargs cat | sha256sum | cut -c1-16)
{
  printf 'const VERSION = "%s";\n' "$version"
  printf 'const PRECACHE = [\n'
  for f in $files; do printf '  "%s",\n' "$f"; done
  printf '];\n'
  cat "$root/static/sw.js"
} > sw.js
