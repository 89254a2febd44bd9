"""A Debian 6.1 kernel and an ndctl initramfs for booting real guests, cached between runs.

Everything comes from Debian packages: the kernel is `apt-get download`ed and
unpacked (never installed); the initramfs holds busybox-static, ndctl with the
shared libraries `ldd` names, and the kernel's nvdimm modules.  The cache lives
outside the repository: $VNVDIMM_INTEROP_CACHE, else $XDG_CACHE_HOME/vnvdimm-interop
(default ~/.cache/vnvdimm-interop).  `Unavailable` means "skip": a tool or package
is missing and could not be fetched.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MODULES = ("libnvdimm", "nfit", "nd_pmem", "nd_btt", "dax_pmem", "device_dax")
HOST_TOOLS = {"busybox": "busybox-static", "ndctl": "ndctl", "cpio": "cpio", "depmod": "kmod",
              "dpkg": "dpkg", "apt-get": "apt", "ldd": "libc-bin"}

# /init of the guest: load the modules, dump the tables and ndctl's view on ttyS0
# between @@VNV markers, power off.
INIT_SCRIPT = r"""#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo "@@VNV-BOOTED"
for m in libnvdimm nfit nd_pmem nd_btt dax_pmem device_dax; do
    modprobe "$m" 2>/dev/null || echo "@@VNV-MODFAIL $m"
done
if [ -e /sys/firmware/acpi/tables/NFIT ]; then
    i=0
    while [ $i -lt 100 ]; do
        ls /sys/bus/nd/devices/ 2>/dev/null | grep -q '^namespace' && break
        usleep 100000; i=$((i+1))
    done
    usleep 300000
fi
b64() {
    [ -r "$2" ] || return 0
    echo "@@VNV-BEGIN-B64 $1"
    base64 "$2"
    echo "@@VNV-END"
}
b64 NFIT /sys/firmware/acpi/tables/NFIT
b64 SRAT /sys/firmware/acpi/tables/SRAT
for t in /sys/firmware/acpi/tables/SSDT*; do b64 "$(basename "$t")" "$t"; done
run() {
    name=$1; shift
    echo "@@VNV-BEGIN $name"
    "$@" 2>/dev/null
    echo "@@VNV-END"
}
run listDR ndctl list -DR
run listN ndctl list -N
# Like run, but keeps stderr: the guest-side ndctl steps are checked by their messages.
run2() {
    name=$1; shift
    echo "@@VNV-BEGIN $name"
    "$@" 2>&1
    echo "@@VNV-END"
}
if grep -q vnv.backward /proc/cmdline; then
    run2 backDisable ndctl disable-region region0
    run2 backInit ndctl init-labels -V 1.2 nmem0
    run2 backEnable ndctl enable-region region0
    run2 backCreate ndctl create-namespace -r region0 -m fsdax -n guest-fsdax -s 64M
    run2 backCreate2 ndctl create-namespace -r region0 -m raw -s 32M
    run backListN ndctl list -N
    ndctl disable-region all >/dev/null 2>&1
    run backLabels ndctl read-labels -j nmem0
fi
if grep -q vnv.reconf /proc/cmdline; then
    run2 reDisable ndctl disable-region region0
    run2 reInit ndctl init-labels -V 1.2 nmem0
    run2 reEnable ndctl enable-region region0
    run2 reCreate ndctl create-namespace -r region0 -m raw -n guest-first -s 32M
    run2 reCreate2 ndctl create-namespace -r region0 -m raw -n guest-second -s 32M
    run reMidListN ndctl list -N
    run2 reReconf ndctl create-namespace -f -e namespace0.0 -m fsdax
    run2 reDestroy ndctl destroy-namespace -f namespace0.1
    run reListN ndctl list -N
    ndctl disable-region all >/dev/null 2>&1
    run reLabels ndctl read-labels -j nmem0
fi
if grep -q vnv.labels /proc/cmdline; then
    ndctl disable-region all >/dev/null 2>&1
    run readLabels ndctl read-labels -j all
fi
cookies() {
    for r in /sys/bus/nd/devices/region*; do
        [ -e "$r" ] && echo "$(basename "$r") $(cat "$r/set_cookie" 2>/dev/null)"
    done
}
run cookies cookies
echo "@@VNV-DONE"
poweroff -f
"""


class Unavailable(Exception):
    """The guest image cannot be built here (a reason to skip, not to fail)."""


@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initramfs: Path
    kernel_package: str


def cache_dir() -> Path:
    explicit = os.environ.get("VNVDIMM_INTEROP_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vnvdimm-interop"


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unavailable(f"{argv[0]}: {error}") from None
    if done.returncode:
        raise Unavailable(f"{' '.join(argv)} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def _check_tools() -> None:
    missing = [pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None]
    if missing:
        raise Unavailable("missing host packages: " + " ".join(sorted(set(missing))))


def _newest_kernel_package() -> tuple[str, str]:
    """The newest linux-image-6.1.0-N-amd64 apt can download, and its version."""
    found = _run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.0-[0-9]+-amd64$"])
    names = sorted({line.split()[0] for line in found.splitlines() if line.strip()},
                   key=lambda n: int(n.split("-")[3]), reverse=True)
    for name in names:
        policy = _run(["apt-cache", "policy", name])
        match = re.search(r"Candidate:\s*(\S+)", policy)
        if match and match.group(1) != "(none)":
            return name, match.group(1)
    raise Unavailable("no linux-image-6.1.0-*-amd64 package available to apt")


def _fetch_kernel(cache: Path) -> tuple[str, Path]:
    """Unpack the kernel package into cache/kernel-<pkg>; returns (pkg, root)."""
    existing = sorted(cache.glob("kernel-linux-image-*/.complete"))
    if existing and not os.environ.get("VNVDIMM_INTEROP_REFRESH"):
        root = existing[-1].parent
        return root.name.removeprefix("kernel-"), root
    package, _version = _newest_kernel_package()
    root = cache / f"kernel-{package}"
    if (root / ".complete").exists():
        return package, root
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        _run(["apt-get", "download", package], cwd=Path(tmp))
        debs = list(Path(tmp).glob("*.deb"))
        if not debs:
            raise Unavailable(f"apt-get download {package} produced no .deb")
        shutil.rmtree(root, ignore_errors=True)
        _run(["dpkg", "-x", str(debs[0]), str(root)])
    release = package.removeprefix("linux-image-")
    _run(["depmod", "-b", str(root), release])
    (root / ".complete").write_text(package + "\n")
    return package, root


def _libraries(binary: str) -> list[str]:
    out = _run(["ldd", binary])
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > parts.index("=>") + 1:
            path = parts[parts.index("=>") + 1]
        elif parts and parts[0].startswith("/"):
            path = parts[0]
        else:
            continue
        if os.path.isfile(path):
            libs.append(path)
    return libs


def _module_files(modroot: Path) -> list[str]:
    deps: dict[str, list[str]] = {}
    for line in (modroot / "modules.dep").read_text().splitlines():
        target, _, rest = line.partition(":")
        deps[target] = rest.split()
    wanted: set[str] = set()
    for module in MODULES:
        match = next((t for t in deps if re.search(rf"(^|/){module}\.ko(\.\w+)?$", t)), None)
        if match is None:
            raise Unavailable(f"kernel module {module} not in modules.dep")
        wanted.add(match)
        wanted.update(deps[match])
    return sorted(wanted)


def _build_initramfs(package: str, kroot: Path, target: Path) -> None:
    release = package.removeprefix("linux-image-")
    modroot = kroot / "lib" / "modules" / release
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        root = Path(tmp) / "root"
        for sub in ("bin", "sbin", "usr/bin", "usr/sbin", "lib/x86_64-linux-gnu", "lib64",
                    "proc", "sys", "dev", "tmp", "run", "etc"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        busybox = shutil.which("busybox")
        assert busybox is not None
        shutil.copy(busybox, root / "bin" / "busybox")
        for applet in _run([busybox, "--list"]).split():
            link = root / "bin" / applet
            if not link.exists():
                link.symlink_to("busybox")
        ndctl = shutil.which("ndctl")
        assert ndctl is not None
        shutil.copy(ndctl, root / "usr" / "bin" / "ndctl")
        for lib in _libraries(ndctl):
            dest = root / ("lib64" if lib.startswith("/lib64/") else "lib/x86_64-linux-gnu")
            shutil.copy(lib, dest / os.path.basename(lib))
        if os.path.isdir("/etc/ndctl.conf.d"):
            shutil.copytree("/etc/ndctl.conf.d", root / "etc" / "ndctl.conf.d")
        dest_mod = root / "lib" / "modules" / release
        for rel in _module_files(modroot):
            (dest_mod / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(modroot / rel, dest_mod / rel)
        for extra in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
            if (modroot / extra).exists():
                shutil.copy(modroot / extra, dest_mod / extra)
        _run(["depmod", "-b", str(root), release])
        init = root / "init"
        init.write_text(INIT_SCRIPT)
        init.chmod(0o755)
        names = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        listing = "\n".join([".", *names]) + "\n"
        with open(Path(tmp) / "initramfs.img", "wb") as out:
            done = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                                  input=listing.encode(), stdout=out, check=False)
        if done.returncode:
            raise Unavailable("cpio failed")
        os.replace(Path(tmp) / "initramfs.img", target)


def guest_image() -> GuestImage:
    """The cached kernel + initramfs, built on first use.  Raises Unavailable."""
    _check_tools()
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    package, kroot = _fetch_kernel(cache)
    release = package.removeprefix("linux-image-")
    kernel = kroot / "boot" / f"vmlinuz-{release}"
    if not kernel.exists():
        raise Unavailable(f"{kernel} missing from the kernel package")
    ndctl = shutil.which("ndctl") or ""
    key = hashlib.sha256((INIT_SCRIPT + package + ndctl + str(os.path.getmtime(ndctl)))
                         .encode()).hexdigest()[:16]
    initramfs = cache / f"initramfs-{key}.img"
    if not initramfs.exists():
        _build_initramfs(package, kroot, initramfs)
    return GuestImage(kernel, initramfs, package)
