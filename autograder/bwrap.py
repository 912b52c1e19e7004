"""The bubblewrap command line for one grading kernel: what it sees, its environment, its rlimits.

``sandbox.SandboxKernelManager`` starts each kernel with ``kernel_command(bwrap_args(...),
kernel_env(...), limits, cmd)``: read-only system folders, the Python environment and the
``helpers`` package; writable only its scratch folder (its cwd), the kernel's socket folder and a
private home and ``/tmp``; an environment built from an allow-list; and a few lines of Python,
run inside the sandbox before the kernel, that set the address-space, file-size, CPU and process
rlimits and then ``exec`` the kernel.  Kept apart from the kernel manager so the sandbox's shape
can be read (and tested) without starting a kernel.
"""
from __future__ import annotations

import json
import os
import shutil
import site
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from helpers.course import SOURCE_ENV

PACKAGE_HINT = ("bubblewrap is not installed (no `bwrap` on PATH): install it with "
                "`sudo apt-get install bubblewrap` (Debian/Ubuntu; `dnf install bubblewrap` on Fedora), "
                "or grade without a sandbox with --unsandboxed (student code then runs with your rights)")

# Environment variables a kernel may inherit; everything else (tokens, the instructor's paths,
# PYTHONPATH with the checkout on it) is dropped.
ENV_KEEP = {"LANG", "LANGUAGE", "TZ", "TERM", "MPLBACKEND", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE",
            "TRANSFORMERS_OFFLINE", SOURCE_ENV, "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYDEVD_DISABLE_FILE_VALIDATION",
            "JPY_SESSION_NAME"}
ENV_KEEP_PREFIX = ("LC_",)

# Runs inside the sandbox as the kernel's first step: set the rlimits, then become the kernel.
RLIMIT_EXEC = (
    "import os, resource, sys\n"
    "a = sys.argv\n"
    "for name, value in zip(('RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_CPU', 'RLIMIT_NPROC'), a[1:5]):\n"
    "    v = int(value)\n"
    "    if v > 0:\n"
    "        resource.setrlimit(getattr(resource, name), (v, v))\n"
    "os.execv(a[5], a[5:])\n"
)

# System folders a Python kernel needs, read-only (those that exist; symlinks stay symlinks).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# From /etc only what programs read to start, resolve names and render text: no shadow files,
# no service configuration.
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "hosts",
               "host.conf", "localtime", "timezone", "locale.alias", "locale.conf", "default/locale",
               "alternatives", "ssl", "ca-certificates", "ca-certificates.conf", "fonts", "mime.types",
               "os-release", "debian_version", "protocols", "services", "matplotlibrc", "gai.conf")


def bwrap_path() -> str | None:
    """Path of the bwrap executable, or None."""
    return shutil.which("bwrap")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot make a sandbox on this machine (the message says how to fix it)."""


_WORKS: set[str] = set()  # bwrap paths that made a sandbox in this process


def require_bwrap() -> str:
    """The bwrap path; raises SandboxUnavailable (naming the package) when it is missing or unusable."""
    path = bwrap_path()
    if path is None:
        raise SandboxUnavailable(PACKAGE_HINT)
    if path in _WORKS:
        return path
    import subprocess
    probe = subprocess.run([path, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable(f"bubblewrap ({path}) cannot create a sandbox here: {probe.stderr.strip()[:300]} "
                                 "(unprivileged user namespaces may be disabled: "
                                 "sysctl kernel.unprivileged_userns_clone=1), or grade with --unsandboxed")
    _WORKS.add(path)
    return path


def python_dirs() -> list[str]:
    """Folders holding the Python environment the kernel runs on (venv, base interpreter, site-packages)."""
    dirs = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
            str(Path(sys.executable).resolve().parent.parent)}
    dirs.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user_site:
        dirs.add(user_site)
    return _outermost(d for d in dirs if d and os.path.isdir(d) and d != "/")


def kernel_python(kernel_name: str = "python3") -> str:
    """The interpreter the grading kernel runs on: its kernelspec's argv[0] (``python`` there means
    this interpreter, as jupyter_client reads it)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager
        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except Exception:  # noqa: BLE001 - no such kernelspec: jupyter_client falls back the same way
        return sys.executable
    exe = argv[0] if argv else ""
    if not exe or exe in ("python", "python3", "{python}"):
        return sys.executable
    return shutil.which(exe) or exe


# Asked of the kernel's interpreter, not answered here: this process has the grading checkout on
# sys.path, the kernel does not, so an editable install of another checkout resolves differently.
_WHERE = ("import importlib.util, json, sys\n"
          "out = {}\n"
          "for n in sys.argv[1:]:\n"
          "    s = importlib.util.find_spec(n)\n"
          "    out[n] = list(s.submodule_search_locations or []) if s else []\n"
          "print(json.dumps(out))\n")
_RESOLVED: dict[tuple[str, tuple[str, ...]], list[str]] = {}


def resolve_packages(python: str | None = None, names: Sequence[str] = ("helpers",)) -> list[str]:
    """The folders ``python`` imports ``names`` from, as the kernel will: no PYTHONPATH, a neutral cwd.
    Falls back to this process's resolution when that interpreter cannot be asked."""
    import importlib.util
    import subprocess
    import tempfile
    python = python or kernel_python()
    key = (python, tuple(names))
    if key in _RESOLVED:
        return list(_RESOLVED[key])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    try:
        with tempfile.TemporaryDirectory() as cwd:
            proc = subprocess.run([python, "-c", _WHERE, *names], capture_output=True, text=True, env=env,
                                  cwd=cwd, timeout=60)
        found = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        found = None
    if found is None:
        found = {}
        for n in names:
            spec = importlib.util.find_spec(n)
            found[n] = list(spec.submodule_search_locations or []) if spec else []
    out = [str(Path(loc).resolve()) for n in names for loc in found.get(n, [])]
    _RESOLVED[key] = out
    return list(out)


def package_dirs(names: Sequence[str] = ("helpers",), python: str | None = None) -> list[str]:
    """Folders of student-facing packages the kernel imports, resolved by the kernel's interpreter
    ``python`` (an editable install lives in its checkout, whichever that is), and the files their
    symlinks point to outside them (helpers' data_manifest.yaml links to the root's)."""
    out = []
    for loc in resolve_packages(python, names):
        top = Path(loc)
        out.append(str(top))
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for f in filenames:
                p = Path(dirpath, f)
                if p.is_symlink() and p.exists() and top not in p.resolve().parents:
                    out.append(str(p.resolve()))
    return out


def _outermost(paths: Iterable[str]) -> list[str]:
    paths = sorted({str(Path(p).resolve()) for p in paths})
    keep: list[str] = []
    for p in paths:
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(p)
    return keep


def system_args(bwrap: str, tmp_mb: int = 512) -> list[str]:
    """What every sandbox of the grading run shares: new namespaces, no environment, the system folders
    and the few /etc entries read-only, a fresh /proc and /dev, and a private /tmp of ``tmp_mb`` MiB."""
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for e in ETC_ENTRIES:
        if os.path.lexists(f"/etc/{e}"):
            args += ["--ro-bind", f"/etc/{e}", f"/etc/{e}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(int(tmp_mb) << 20), "--tmpfs", "/tmp"]
    return args


def bwrap_args(*, bwrap: str, cwd: Path, run_dir: Path, lib_dir: Path, home_dir: Path,
               tmp_mb: int = 512, python: str | None = None) -> list[str]:
    """The bwrap command line (without the command) for a kernel of one submission; ``python`` is the
    kernel's interpreter (default: the kernelspec's), which decides where ``helpers`` comes from."""
    args = system_args(bwrap, tmp_mb)
    for d in python_dirs() + package_dirs(python=python):
        args += ["--ro-bind", d, d]
    args += ["--bind", str(run_dir), str(run_dir),       # sockets, connection file
             "--ro-bind", str(lib_dir), str(lib_dir),    # the kernel side only (kernel_files)
             "--bind", str(home_dir), str(home_dir),
             "--bind", str(cwd), str(cwd), "--chdir", str(cwd),
             "--remount-ro", "/"]  # the sandbox's own root (a tmpfs holding the mount points) too
    return args


def kernel_env(env: Mapping[str, str], *, lib_dir: Path, home_dir: Path, ipython_dir: Path) -> dict[str, str]:
    """The kernel's environment: an allow-list of the parent's, plus the sandbox's own paths."""
    out = {k: v for k, v in env.items() if k in ENV_KEEP or k.startswith(ENV_KEEP_PREFIX)}
    out.update(PATH=os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
               HOME=str(home_dir), TMPDIR="/tmp", PYTHONPATH=str(lib_dir), IPYTHONDIR=str(ipython_dir),
               MPLCONFIGDIR=str(Path(home_dir) / ".config" / "matplotlib"),
               JPY_PARENT_PID="1",  # no parent polling (pid 1 is bwrap's): --die-with-parent does that
               PYTHONSAFEPATH="1")  # no cwd on sys.path: a helpers/ folder there cannot shadow the package
    return out


def kernel_command(args: Sequence[str], env: Mapping[str, str], limits: Sequence[int],
                   cmd: Sequence[str]) -> list[str]:
    """The whole command: bwrap with ``args``, the kernel's ``env`` set inside, then the rlimit
    preamble (``limits``: address space and file size in bytes, CPU seconds, processes; 0 = none)
    that execs the kernel command ``cmd``."""
    wrapped = list(args)
    for k, v in env.items():
        wrapped += ["--setenv", k, v]
    return [*wrapped, "--", sys.executable, "-S", "-c", RLIMIT_EXEC, *map(str, limits), *cmd]


def masked_helpers() -> list[str]:
    """Installed copies of ``helpers`` in the interpreter's package folders (a non-editable install), which the
    function host must not see (an editable install lives in the checkout, which the host never binds)."""
    dirs = set(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    dirs.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return sorted({str(Path(d) / "helpers") for d in dirs if (Path(d) / "helpers").is_dir()})


def host_bwrap_args(*, bwrap: str, lib_dir: Path, cwd: Path, tmp_mb: int = 512) -> list[str]:
    """The bwrap command line for the function host (``autograder.host``): the kernel's shape without
    the real ``helpers`` (its installed copies are masked by empty folders; an editable install's checkout
    is never bound) and without any autograder file but the host's ``lib_dir`` copy."""
    args = system_args(bwrap, tmp_mb)
    for d in python_dirs():
        args += ["--ro-bind", d, d]
    for d in masked_helpers():
        args += ["--tmpfs", d]
    args += ["--ro-bind", str(lib_dir), str(lib_dir),
             "--bind", str(cwd), str(cwd), "--chdir", str(cwd),
             "--remount-ro", "/"]
    return args
