#!/usr/bin/env bash
# `make package`: every function in functions/* built for Lambda by cargo-lambda into one
# deployable zip, target/lambda/<function>/bootstrap.zip, then a table of the zips.
# Fails if the build fails or a zip is over MAX_ZIP_BYTES (default 4.5 MB = 4,500,000 bytes);
# the preview function, which alone carries the image decoders and a PDF rasterizer
# with its fonts, over PREVIEW_MAX_ZIP_BYTES (default 12 MB).
#
# The build is the one `sam build` runs for BuildMethod rust-cargolambda, which is
# `cargo lambda build --release [--arm64] --bin <Binary>` at the workspace root: the same
# feature resolution (the whole workspace), the workspace's release profile (fat LTO, one
# codegen unit, stripped, panic=abort) and cargo-lambda's `-C target-cpu` for Lambda's
# CPUs, linked through zig (cargo-zigbuild) against an older glibc than the build
# machine's, so the binaries run on provided.al2023. cargo-lambda and zig come from PyPI
# into .venv (scripts/requirements-package.txt); `make test` does not need them.
#
# ARCH=x86_64 (default) or ARCH=arm64 (Graviton, the template's default Architecture; needs
# `rustup target add aarch64-unknown-linux-gnu`). Both write the same
# target/lambda/<function>/bootstrap.zip: the last build wins, and the table says which.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

arch="${ARCH:-x86_64}"
case "$arch" in
    x86_64 | x86-64 | amd64) arch=x86_64 arch_flag=--x86-64 triple=x86_64-unknown-linux-gnu ;;
    arm64 | aarch64) arch=arm64 arch_flag=--arm64 triple=aarch64-unknown-linux-gnu ;;
    *)
        echo "package.sh: ARCH must be x86_64 or arm64, not '$arch'" >&2
        exit 2
        ;;
esac
max_bytes="${MAX_ZIP_BYTES:-4500000}"
preview_max_bytes="${PREVIEW_MAX_ZIP_BYTES:-12000000}"

if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$triple"; then
    echo "package.sh: the Rust target $triple is not installed; run: rustup target add $triple" >&2
    exit 1
fi

scripts/venv.sh scripts/requirements-package.txt
# cargo-lambda, and python3 (with the ziglang package) for zig.
export PATH="$root/.venv/bin:$PATH"

# The binaries of the packages under functions/ (one each, named like the package).
mapfile -t functions < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
functions = os.path.join(meta["workspace_root"], "functions") + os.sep
for package in meta["packages"]:
    if package["manifest_path"].startswith(functions):
        for target in package["targets"]:
            if "bin" in target["kind"]:
                print(target["name"])
' | sort)
[ "${#functions[@]}" -gt 0 ] || {
    echo "package.sh: no binaries found under functions/" >&2
    exit 1
}

bin_args=()
for function in "${functions[@]}"; do
    rm -rf "target/lambda/$function" # no stale zip of an earlier build is ever reported
    bin_args+=(--bin "$function")
done

echo "==> cargo lambda build --release $arch_flag --output-format zip ${bin_args[*]}"
SECONDS=0
cargo lambda build --release "$arch_flag" --output-format zip "${bin_args[@]}" </dev/null
echo "==> built in $((SECONDS / 60))m $((SECONDS % 60))s"

# The table; exits non-zero if a zip is missing, not a Lambda bootstrap of $arch, or too big.
python3 - "$arch" "$max_bytes" "$preview_max_bytes" "${functions[@]}" <<'EOF'
import os, stat, sys, zipfile

arch, max_bytes, preview_max_bytes, functions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
limits = {"preview": preview_max_bytes}
machines = {0x3E: "x86_64", 0xB7: "arm64"}  # ELF e_machine
rows, problems = [], []
for function in functions:
    path = f"target/lambda/{function}/bootstrap.zip"
    if not os.path.isfile(path):
        problems.append(f"{path}: missing")
        continue
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if names != ["bootstrap"]:
            problems.append(f"{path}: holds {names}, not just bootstrap")
            continue
        info = archive.getinfo("bootstrap")
        head = archive.read("bootstrap")[:20]
    found = machines.get(int.from_bytes(head[18:20], "little"), "?") if head[:4] == b"\x7fELF" else "not ELF"
    if found != arch:
        problems.append(f"{path}: bootstrap is {found}, not {arch}")
    if not (info.external_attr >> 16) & stat.S_IXUSR:
        problems.append(f"{path}: bootstrap is not executable")
    size = os.path.getsize(path)
    limit = limits.get(function, max_bytes)
    if size > limit:
        problems.append(f"{path}: {size:,} bytes, over the limit of {limit:,}")
    rows.append((path, size, info.file_size, found))

width = max(len(r[0]) for r in rows) if rows else 10
print(f"{'zip':<{width}}  {'bytes':>11}  {'MB':>6}  {'bootstrap bytes':>15}  arch")
for path, size, unzipped, found in rows:
    print(f"{path:<{width}}  {size:>11,}  {size / 1e6:>6.2f}  {unzipped:>15,}  {found}")
total = sum(r[1] for r in rows)
print(f"{'total':<{width}}  {total:>11,}  {total / 1e6:>6.2f}")
print(f"limit per zip: {max_bytes:,} bytes ({max_bytes / 1e6:g} MB); preview: {preview_max_bytes:,} bytes")
if problems:
    print("package.sh: " + "\npackage.sh: ".join(problems), file=sys.stderr)
    sys.exit(1)
EOF
