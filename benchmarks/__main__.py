"""The benchmark runner: ``python -m benchmarks PN [args]``, ``all``, ``render``.

Each protocol of PROTOCOLS.md is a module ``benchmarks/protocols/pN.py`` with a
one-line ``TITLE`` and ``main(argv=None) -> int``. ``--help`` reads the titles
without importing the modules (a module whose optional packages are missing
is still listed), and a module that does not exist yet is listed as such.
"""

import ast
import sys
import time
import traceback
from importlib import import_module
from pathlib import Path

PROTOCOLS = Path(__file__).resolve().parent / "protocols"
NAMES = [f"P{i}" for i in range(1, 10)] + ["DEMO"]


def module_path(name):
    return PROTOCOLS / f"{name.lower()}.py"


def title(name):
    """The module's ``TITLE``, read from its source; None when it has none."""
    path = module_path(name)
    if not path.exists():
        return None
    for node in ast.parse(path.read_text()).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "TITLE"
                and isinstance(node.value, ast.Constant)):
            return node.value.value
    return "(no TITLE)"


def usage():
    lines = [
        "usage: python -m benchmarks PROTOCOL [--quick] [--seeds S ...] [args]",
        "       python -m benchmarks all [--quick] [--seeds S ...]",
        "       python -m benchmarks render [--check]",
        "",
        "Each protocol writes benchmarks/results/PN.md and PN.json",
        "(benchmarks/results/quick/ with --quick); `python -m benchmarks PN --help`",
        "lists its own arguments. The protocols (../shared/PROTOCOLS.md):",
        "",
    ]
    for name in NAMES:
        text = title(name)
        lines.append(f"  {name:<5} {text if text else 'not yet available'}")
    return "\n".join(lines)


def run(name, argv):
    module = import_module(f"benchmarks.protocols.{name.lower()}")
    return module.main(list(argv))


def takes_seeds(name):
    """Whether the protocol's module has a ``--seeds`` argument."""
    source = module_path(name).read_text()
    return "--seeds" in source or "seeds=" in source


def without_seeds(argv):
    """``argv`` less ``--seeds`` and the values after it."""
    out, skipping = [], False
    for arg in argv:
        if arg == "--seeds":
            skipping = True
        elif skipping and not arg.startswith("-"):
            continue
        else:
            skipping = False
            out.append(arg)
    return out


def run_all(argv):
    """Run every available protocol with the same arguments; report each.

    ``--seeds`` goes only to the protocols that have seeds.
    """
    failed = []
    for name in NAMES:
        if title(name) is None:
            print(f"== {name}: not yet available, skipped", flush=True)
            continue
        start = time.perf_counter()
        print(f"== {name}: {title(name)}", flush=True)
        try:
            code = run(name, argv if takes_seeds(name) else without_seeds(argv))
        except Exception:  # one broken protocol must not hide the others
            traceback.print_exc()
            code = 1
        print(f"== {name}: exit {code} in {time.perf_counter() - start:.0f} s",
              flush=True)
        if code:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command == "render":
        from benchmarks._render import main as render

        return render(rest)
    if command == "all":
        return run_all(rest)
    name = command.upper()
    if name not in NAMES:
        print(f"unknown protocol {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    if title(name) is None:
        print(f"{name} is not yet available (no {module_path(name).name})",
              file=sys.stderr)
        return 2
    return run(name, rest)


if __name__ == "__main__":
    sys.exit(main())
