#!/bin/bash
# PID 1 of the kernel-matrix guest once init has switched to the host's root under a tmpfs
# overlay (see init). Mounts what a BPF program needs, puts the host-built test objects in place, hides the
# compiler so nothing can be rebuilt against this kernel, and runs the chosen vitest files.
# Results go to /run/tsbpf (a writable 9p share of the host's results folder).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /run/tsbpf/job.env
out=/run/tsbpf

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o size=512m tmpfs /tmp
mount -t tracefs nodev /sys/kernel/tracing
mount -t debugfs nodev /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 none /sys/fs/cgroup
ip link set lo up 2>/dev/null

# modprobe (veth, sch_ingress, cls_bpf, ...) finds this kernel's modules from its own package.
kver="$(uname -r)"
mkdir -p "/lib/modules/$kver"
mount --bind "$TSBPF_MODULES" "/lib/modules/$kver"
modprobe -a veth sch_ingress cls_bpf 2>&1 | head -n 5

# The objects the host compiled (test/helpers/bpf.ts caches them by content under $TMPDIR):
# the tests find them there and load them unchanged, relocated by libbpf against this kernel.
mkdir -p /tmp/tsbpf-test-cache
cp -a "$TSBPF_OBJECTS/." /tmp/tsbpf-test-cache/
# Tests that run `tsbpf gen`/`build` compile in the guest, but against the host's vmlinux.h from
# that cache; the fixture objects are not rebuilt. guest.env counts what was compiled here.
ls /tmp/tsbpf-test-cache/objects > /tmp/objects-before

{
  echo "kernel=$kver"
  echo "btf=$([ -e /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
  echo "kprobes=$([ -e /sys/bus/event_source/devices/kprobe ] && echo yes || echo no)"
  echo "uptime_before_tests=$(cut -d' ' -f1 /proc/uptime)"
} > "$out/guest.env"

cd "$TSBPF_REPO" || /bin/busybox poweroff -f
start=$(cut -d' ' -f1 /proc/uptime)
# shellcheck disable=SC2086 # TSBPF_TESTS is a list of files
NO_COLOR=1 HOME=/tmp TMPDIR=/tmp CI=1 TSBPF_KERNELS_GUEST=1 TSBPF_KERNELS_BTF="${TSBPF_KERNELS_BTF:-}" \
  TSBPF_LIBBPF="${TSBPF_LIBBPF:-}" TSBPF_KERNELS_STREAMS="${TSBPF_KERNELS_STREAMS:-}" \
  timeout "$TSBPF_TEST_TIMEOUT" node node_modules/vitest/vitest.mjs run \
  --config test/kernels/vitest.config.ts --reporter=default --reporter=json --outputFile="$out/vitest.json" \
  $TSBPF_TESTS > "$out/tests.log" 2>&1
rc=$?
end=$(cut -d' ' -f1 /proc/uptime)
echo "uptime_after_tests=$end" >> "$out/guest.env"
echo "tests_seconds=$(awk "BEGIN{print $end-$start}")" >> "$out/guest.env"
ls /tmp/tsbpf-test-cache/objects | grep -vxFf /tmp/objects-before | grep -c . > "$out/compiled-in-guest"
echo "objects_from_host=$(grep -c . /tmp/objects-before)" >> "$out/guest.env"
echo "objects_compiled_in_guest=$(cat "$out/compiled-in-guest")" >> "$out/guest.env"
echo "$rc" > "$out/exit-code"
tail -n 15 "$out/tests.log"
echo "tsbpf-guest: tests exited $rc at $end s"
sync
# PID 1 must not exit (the kernel would panic): power off instead.
/bin/busybox poweroff -f
echo o > /proc/sysrq-trigger
sleep 10
