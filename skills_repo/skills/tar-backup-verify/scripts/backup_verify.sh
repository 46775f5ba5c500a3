#!/usr/bin/env bash
# Create a gzip'd tar backup with a per-file SHA-256 manifest inside and a checksum sidecar
# next to it, and verify such a backup end to end (archive bytes, listing, every file).
#
#   backup_verify.sh create SRC_DIR ARCHIVE.tar.gz
#   backup_verify.sh verify ARCHIVE.tar.gz
#
# Why both checksums: the sidecar proves the archive was not truncated or altered in
# transit; the manifest proves each restored file is byte-identical to what was backed up.
# Scratch space is created next to the archive (never in /tmp) and removed on exit.
set -euo pipefail
export LC_ALL=C

die() { echo "backup_verify: $*" >&2; exit 2; }
scratch=""
trap '[[ -n $scratch ]] && rm -rf "$scratch"' EXIT

create() {
  local src=$1 archive=$2
  [[ -d $src ]] || die "not a directory: $src"
  [[ $archive == *.tar.gz ]] || die "archive name must end in .tar.gz"
  local manifest="$src/MANIFEST.sha256"
  [[ -e $manifest ]] && die "$manifest exists; refusing to overwrite"
  # Build the list before the manifest exists inside $src, so it never lists itself.
  local listing
  listing=$(cd "$src" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
  printf '%s\n' "$listing" > "$manifest"
  tar --create --gzip --file "$archive" --directory "$src" --sort=name .
  rm -f "$manifest"
  (cd "$(dirname "$archive")" && sha256sum "$(basename "$archive")") > "$archive.sha256"
  echo "created $(basename "$archive"): $(grep -c . <<< "$listing") files + MANIFEST.sha256"
}

verify() {
  local archive=$1
  [[ -f $archive ]] || die "no such archive: $archive"
  [[ -f $archive.sha256 ]] || die "missing checksum sidecar: $archive.sha256"
  if (cd "$(dirname "$archive")" && sha256sum --check --status "$(basename "$archive").sha256"); then
    echo "archive checksum: OK"
  else
    echo "archive checksum: FAILED"; return 1
  fi
  tar -tzf "$archive" > /dev/null || { echo "listing: FAILED (corrupt gzip/tar)"; return 1; }
  scratch=$(mktemp -d "$(dirname "$archive")/.verify.XXXXXX")
  tar -xzf "$archive" -C "$scratch"
  [[ -f $scratch/MANIFEST.sha256 ]] || { echo "manifest: MISSING"; return 1; }
  local total bad
  total=$(grep -c . "$scratch/MANIFEST.sha256")
  bad=$(cd "$scratch" && sha256sum --check --quiet MANIFEST.sha256 2>/dev/null | grep -c ': FAILED' || true)
  local extra
  extra=$(cd "$scratch" && comm -13 <(sed 's/^[0-9a-f]*  //' MANIFEST.sha256 | sort) \
            <(find . -type f ! -name MANIFEST.sha256 | sort) | wc -l)
  echo "files: $((total - bad))/$total match manifest, $extra not in manifest"
  if [[ $bad -eq 0 && $extra -eq 0 ]]; then echo "verdict: OK"; else echo "verdict: FAILED"; return 1; fi
}

case ${1:-} in
  create) [[ $# -eq 3 ]] || die "usage: create SRC_DIR ARCHIVE.tar.gz"; create "$2" "$3" ;;
  verify) [[ $# -eq 2 ]] || die "usage: verify ARCHIVE.tar.gz"; verify "$2" ;;
  *) die "usage: backup_verify.sh {create SRC_DIR ARCHIVE.tar.gz | verify ARCHIVE.tar.gz}" ;;
esac
