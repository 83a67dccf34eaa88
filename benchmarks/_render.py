"""``python -m benchmarks render [--check]``: figures rendered from results.

README.md, benchmarks/README.md and the pages under doc/ quote benchmark
figures only inside marked blocks, which this module rewrites from the
``figures`` of ``benchmarks/results/PN.json``. Two forms of marker:

* inline, a one-line template whose fields name a protocol and a figure::

      <!-- figures: {P1.speedup_max:.1f}x faster -->24.4x faster<!-- /figures -->

  (in an rST page the marker is a comment line, ``.. figures: TEMPLATE``,
  and the block ends at a line ``.. /figures``);
* named, a block whose text a function of :data:`BLOCKS` writes (tables)::

      <!-- figures headline -->
      ...
      <!-- /figures -->

``--check`` rewrites nothing and exits 1 when a block differs from what the
results say, naming the file and showing both texts; CI runs it, so a figure
cannot drift from its results file.
"""

import argparse
import difflib
import json
import re
import string
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# <!-- figures: TEMPLATE -->TEXT<!-- /figures -->, or <!-- figures NAME -->,
# and the rST comment forms of both; TEXT may span lines.
MARKDOWN = re.compile(
    r"(?P<open><!-- figures(?::(?P<template>.*?)| (?P<name>[\w-]+)) -->)"
    r"(?P<body>.*?)(?P<close><!-- /figures -->)", re.S)
RST = re.compile(
    r"(?P<open>^\.\. figures(?::(?P<template>[^\n]*)| (?P<name>[\w-]+))\n)"
    r"(?P<body>.*?)(?P<close>^\.\. /figures$)", re.S | re.M)


class MissingResults(KeyError):
    """A block names a protocol with no results file."""


class _Results:
    """``{P1.name}`` in a template: the figure ``name`` of results/P1.json."""

    def __init__(self, results):
        self.results = Path(results)
        self.cache = {}

    def protocol(self, key):
        if key not in self.cache:
            path = self.results / f"{key}.json"
            if not path.exists():
                raise MissingResults(key)
            payload = json.loads(path.read_text())
            figures = payload["figures"]
            load = re.search(r"Load average \(1 / 5 / 15 min\): ([0-9.]+)",
                             payload.get("machine", ""))
            self.cache[key] = types.SimpleNamespace(
                **figures, _commit=payload["commit"],
                _load=load.group(1) if load else "not stated")
        return self.cache[key]

    def __getitem__(self, key):
        return self.protocol(key)


def _format(template, results):
    try:
        return string.Formatter().vformat(template, (), results)
    except MissingResults as missing:
        key = missing.args[0]
        return (f"(no figures yet: results/{key}.json is written by "
                f"`python -m benchmarks {key}`)")
    except AttributeError as error:
        raise KeyError(f"{template!r}: {error}") from error


def _cell(value, digits=None):
    if isinstance(value, float) and digits is not None:
        return f"{value:.{digits}f}"
    return str(value)


def headline(results):
    """The README's table of headline results against the anchors."""
    rows = [("P1", "GaussianMixture: seconds per EM iteration against "
             "scikit-learn's (N = 200 000, d = 16, k = 16)",
             "{P1.speedup_min:.1f}x to {P1.speedup_max:.1f}x faster",
             "same held-out log-likelihood to {P1.rel_diff_float64_full} (float64)"),
            ("P9", "GaussianMixture beside one busy process (2 cores)",
             "{P9.gmm_vs_sklearn_busy1:.1f}x faster than scikit-learn",
             "every fit at {P9.fit_busy1_ratio_min:.2f}-"
             "{P9.fit_busy1_ratio_max:.2f}x its time alone"),
            ("P2", "VAE density on the 8x8 digits, nats per image (higher is "
             "better), seeds 3-5 held out",
             "{P2.vae_held_out:.1f}",
             "scikit-learn's best mixture {P2.sklearn_gmm_held_out:.1f}, "
             "KernelDensity {P2.kde_held_out:.1f}"),
            ("P6", "TabularMixture on CPS1988: detection AUC of its synthetic "
             "rows against held-out real rows (0.5 = indistinguishable), "
             "held-out seed 3",
             "{P6.test_rows_CPS1988_TabularMixture_held_out_auc:.3f}",
             "TVAE {P6.test_rows_CPS1988_TVAE_held_out_auc:.3f}, independent "
             "columns {P6.test_rows_CPS1988_baseline_held_out_auc:.3f}"),
            ("P6", "TabularMixture on Wage: detection AUC against held-out "
             "rows, fit seconds, held-out seed 3",
             "{P6.test_rows_Wage_TabularMixture_held_out_auc:.3f}, "
             "{P6.test_rows_Wage_TabularMixture_held_out_fit_s:.1f} s",
             "TVAE {P6.test_rows_Wage_TVAE_held_out_auc:.3f}, "
             "{P6.test_rows_Wage_TVAE_held_out_fit_s:.1f} s; independent "
             "columns {P6.test_rows_Wage_baseline_held_out_auc:.3f}"),
            ("P8", "GaussianMixture on Dask, 50 million rows: peak memory per "
             "worker", "{P8.worker_peak_mb_50M:.0f} MB",
             "{P8.worker_peak_mb_2M:.0f} MB at 2 million rows"),
            ("P3", "Anomaly detection, mean ROC AUC over 24 ODDS sets",
             "{P3.best_skgen_held_out}", "IsolationForest {P3.iforest_held_out}"),
            ("P7", "Imputation, mean rank over seven tables (30% MCAR)",
             "{P7.gmm_rank}", "missForest {P7.missforest_rank}")]
    table = []
    for protocol, what, skgen, anchor in rows:
        try:
            load = results.protocol(protocol)._load
        except MissingResults:
            table.append([f"[{protocol}](benchmarks/results/)", what,
                          f"not yet in `results/{protocol}.json`", "", ""])
            continue
        try:
            cells = [_format(skgen, results), _format(anchor, results)]
        except KeyError:  # an owner's results file without these figures yet
            cells = [f"see `results/{protocol}.md`", ""]
        table.append([f"[{protocol}](benchmarks/results/{protocol}.md)", what,
                      *cells, load])
    return ["protocol", "what is measured", "skgen", "anchor",
            "machine load at the start"], table


def p6_table(results):
    """Every table and model of P6, tuning seeds: AUC, TSTR R², DCR, fit s."""
    figures = results.protocol("P6")
    table = []
    for name_of_table in ("CPS1988", "diamonds", "Wage", "NMES1988"):
        for model in ("TabularMixture", "VAE", "GAN", "TVAE", "CTGAN", "baseline"):
            key = f"{name_of_table}_{model}_tuning"
            auc = getattr(figures, f"{key}_auc", None)
            if auc is None:
                continue
            real = getattr(figures, f"{key}_trtr", None)
            name = f"skgen {model}" if model in ("TabularMixture", "VAE", "GAN") \
                else model
            tstr = _cell(getattr(figures, f"{key}_tstr", "–"), 3)
            if model == "TabularMixture" and real is not None:
                tstr += f" ({_cell(real, 3)})"
            table.append([name_of_table, name, _cell(auc, 3), tstr,
                          _cell(getattr(figures, f"{key}_dcr", "–"), 2),
                          _cell(getattr(figures, f"{key}_fit_s", "–"), 1)])
    return (["table", "model", "detection AUC (0.5 best)", "TSTR R² (real)",
             "DCR ratio", "fit s"], table)


def p1_table(results):
    """P1's per-iteration speed-ups by dtype and covariance."""
    figures = results.protocol("P1")
    covariances = ("full", "tied", "diag", "spherical")
    return ["dtype", *covariances], [
        [dtype, *(f"{getattr(figures, f'speedup_{dtype}_{cov}'):.1f}x"
                  for cov in covariances)]
        for dtype in ("float64", "float32")]


def p2_table(results):
    """P2's rows, tuning and held-out seeds."""
    figures = results.protocol("P2")
    names = [("vae", "skgen VAE, defaults"),
             ("vae_untrimmed", "skgen VAE, `support_fraction=1.0`"),
             ("vae_one_normal", "skgen VAE, one normal per feature, untrimmed"),
             ("skgen_gmm", "skgen GaussianMixture, best of a grid"),
             ("sklearn_gmm", "sklearn GaussianMixture, best of the same grid"),
             ("kde", "sklearn KernelDensity, bandwidth by CV")]
    return ["model", "seeds 0-2 (tuning)", "seeds 3-5 (held out)"], [
        [label, f"{getattr(figures, f'{key}_tuning'):.1f}",
         f"{getattr(figures, f'{key}_held_out'):.1f}"] for key, label in names]


def _table_text(header, rows, rst):
    """A markdown table, or an rST list-table."""
    if not rst:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        # rST has no markdown links or backticks of one
        cells = [re.sub(r"\[(.*?)\]\(.*?\)", r"\1", c).replace("`", "``")
                 for c in row]
        lines.append("   * - " + cells[0])
        lines += [f"     - {cell}" for cell in cells[1:]]
    return "\n".join(lines)


BLOCKS = {"headline": headline, "p1-table": p1_table, "p2-table": p2_table,
          "p6-table": p6_table}


def render_text(text, results, rst=False):
    """``text`` with every marked block rewritten from ``results``."""
    pattern = RST if rst else MARKDOWN

    def replace(match):
        if match["name"] is not None:
            if match["name"] not in BLOCKS:
                raise KeyError(f"unknown block {match['name']!r}; known: "
                               f"{', '.join(BLOCKS)}")
            try:
                body = _table_text(*BLOCKS[match["name"]](results), rst=rst)
            except MissingResults as missing:
                body = _format("{" + missing.args[0] + ".x}", results)
            body = f"\n{body}\n" if not rst else f"\n{body}\n\n"
        else:
            body = _format(match["template"].strip(), results)
            if rst:
                body = f"\n{body}\n\n"
        return match["open"] + body + match["close"]

    return pattern.sub(replace, text)


def pages(root):
    """The files whose blocks are rendered."""
    root = Path(root)
    found = [root / "README.md", root / "benchmarks" / "README.md"]
    found += sorted((root / "doc").rglob("*.rst"))
    return [path for path in found if path.exists()
            and not any(part.startswith(("_build", "generated", "auto_examples"))
                        for part in path.relative_to(root).parts)]


def render(root=ROOT, results=None, check=False, out=sys.stdout):
    """Render every page under ``root``; return the paths that differ."""
    results = _Results(results or Path(root) / "benchmarks" / "results")
    stale = []
    for path in pages(root):
        text = path.read_text()
        new = render_text(text, results, rst=path.suffix == ".rst")
        if new == text:
            continue
        stale.append(path)
        if check:
            diff = difflib.unified_diff(
                text.splitlines(), new.splitlines(), f"{path} (as written)",
                f"{path} (from the results)", lineterm="", n=0)
            print("\n".join(diff), file=out)
        else:
            path.write_text(new)
            print(f"rendered {path.relative_to(root)}", file=out)
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks render",
        description="Rewrite the marked figure blocks of README.md and doc/ "
        "from benchmarks/results/PN.json.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any block differs")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stale = render(args.root, check=args.check)
    if args.check and stale:
        print(f"{len(stale)} file(s) quote figures that differ from "
              "benchmarks/results: run `python -m benchmarks render`.",
              file=sys.stderr)
        return 1
    return 0
