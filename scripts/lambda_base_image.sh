#!/usr/bin/env bash
# The Lambda base image `sam local` runs the functions in:
# public.ecr.aws/lambda/provided:al2023-x86_64. Pulled where a registry answers; where
# none does (these machines reach only the package registries), a stand-in of the same
# name is built from files already on the machine and `docker import`ed.
#
# The stand-in is not Amazon Linux. It has what a provided.al2023 function and SAM need:
# - glibc and libgcc_s (what a Rust `bootstrap` built by cargo-lambda links), and CA
#   certificates;
# - /bin/sh, mv, chmod, cp and rm, for the `RUN` lines of the image SAM builds on top
#   (it adds the runtime interface emulator that comes with aws-sam-cli);
# - the base image's layout and environment: /var/task (LAMBDA_TASK_ROOT, also on PATH:
#   the emulator starts the handler `bootstrap` through PATH), /var/runtime
#   (LAMBDA_RUNTIME_DIR), /opt, /tmp (1777), WORKDIR /var/task, and the same LANG, TZ and
#   LD_LIBRARY_PATH.
# Whatever the functions do beyond libc (no shell-outs, no system libraries) behaves
# the same in both.
#
# Usage: scripts/lambda_base_image.sh   (DOCKER_HOST as the caller set it)
set -euo pipefail

image="public.ecr.aws/lambda/provided:al2023-x86_64"

if docker image inspect "$image" >/dev/null 2>&1; then
    exit 0
fi
if timeout 60 docker pull "$image" >/dev/null 2>&1; then
    echo "lambda_base_image: pulled $image"
    exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT

# A program and the shared libraries `ldd` says it loads, at their paths.
copy_with_libraries() {
    local program="$1" library
    mkdir -p "$rootfs$(dirname "$program")"
    cp -L "$program" "$rootfs$program"
    while read -r library; do
        mkdir -p "$rootfs$(dirname "$library")"
        [ -e "$rootfs$library" ] || cp -L "$library" "$rootfs$library"
    done < <(ldd "$program" | grep -oE '/[^ ]+' | sort -u)
}

for program in /bin/sh /bin/mv /bin/chmod /bin/cp /bin/rm; do
    copy_with_libraries "$(readlink -f "$program")"
    mkdir -p "$rootfs/bin"
    [ -e "$rootfs$program" ] || ln -s "$(readlink -f "$program")" "$rootfs$program"
done
# What a Rust binary links beyond those: libgcc_s for unwinding, and glibc's libraries
# (a binary linked against an older glibc, as cargo-lambda's are, names libpthread, libdl
# and librt apart), with its name service modules for resolving hosts.
for library in libgcc_s.so.1 libm.so.6 libc.so.6 libpthread.so.0 libdl.so.2 librt.so.1 \
    libutil.so.1 libresolv.so.2 libnss_dns.so.2 libnss_files.so.2; do
    path="$(ldconfig -p | awk -v lib="$library" '$1 == lib && /x86-64/ && !found { print $NF; found = 1 }')"
    [ -n "$path" ] || { echo "lambda_base_image: $library not found" >&2; exit 1; }
    mkdir -p "$rootfs$(dirname "$path")"
    cp -L "$path" "$rootfs$path"
done
# The loader at the path binaries name, and the directories Amazon Linux has.
mkdir -p "$rootfs/lib64" "$rootfs/usr/lib64"
[ -e "$rootfs/lib64/ld-linux-x86-64.so.2" ] ||
    cp -L /lib64/ld-linux-x86-64.so.2 "$rootfs/lib64/ld-linux-x86-64.so.2"
mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/var/task" "$rootfs/var/runtime" "$rootfs/opt" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
[ ! -f /etc/ssl/certs/ca-certificates.crt ] ||
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-bundle.crt"
cp -L /usr/share/zoneinfo/UTC "$rootfs/etc/localtime" 2>/dev/null || true
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\n' >"$rootfs/etc/passwd"

tar -C "$rootfs" -c . | docker import \
    -c 'ENV LANG=en_US.UTF-8' \
    -c 'ENV TZ=:/etc/localtime' \
    -c 'ENV PATH=/var/task:/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
    -c 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    -c 'ENV LAMBDA_TASK_ROOT=/var/task' \
    -c 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    -c 'WORKDIR /var/task' \
    - "$image" >/dev/null
echo "lambda_base_image: no registry answered; built a stand-in $image from this machine's glibc"
