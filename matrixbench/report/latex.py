"""``matrixbench report --format latex``: the report as one LaTeX document.

Per machine and task: the summary sentences, the winners table and each problem's table
of measured cells (``booktabs``; skipped cells as a line under the table). The document
needs only ``booktabs`` and ``geometry`` (both in TeX Live's base and recommended sets)
and compiles with ``pdflatex``; an author takes the tables they need from it.
"""

from __future__ import annotations

from .model import ReportModel
from .tables import latex_escape, problem_table, to_latex, winners_table

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage[landscape,margin=1.5cm]{geometry}
\usepackage{booktabs}
\setlength{\tabcolsep}{3pt}
\begin{document}
"""


def document(models: dict[str, ReportModel]) -> str:
    """One document: a section per machine (when there are several) and per task."""
    out = [PREAMBLE, r"\section*{matrixbench report}"]
    if len(models) > 1:
        out.append(latex_escape(f"Runs from {len(models)} machines: times from different machines are not comparable, "
                                "so each machine has its own part."))
    for machine, model in models.items():
        if len(models) > 1:
            out.append(r"\part*{" + latex_escape(f"machine {machine}") + "}")
        runs = ", ".join(f"{r.id} ({(r.commit or '-')[:12]}, {r.machine})" for r in model.runs)
        out.append(r"\noindent " + latex_escape(f"Runs: {runs}.") + r"\par")
        for task in model.tasks:
            out.append(r"\clearpage\subsection*{" + latex_escape(task.name) + "}")
            out.append(latex_escape(task.description) + r"\par")
            for regime in task.summary:
                out.append(r"\paragraph{" + latex_escape(regime.title) + "}")
                out.append(r"\begin{itemize}")
                out += [r"\item " + latex_escape(s) for s in regime.sentences(task.accuracy_axis)]
                out.append(r"\end{itemize}")
            if task.primary:
                out.append(to_latex(winners_table(task), float_=False))
            for pv in task.problems:
                table = problem_table(pv)
                table.caption = f"{task.name}: {pv.key}"
                if table.rows:
                    out.append(to_latex(table, float_=False))
                else:
                    out.append(r"\par\noindent " + latex_escape(f"{pv.key}: no cell ran ({sum(h.count for h in table.hidden)} skipped).") + r"\par")
            out.append(r"\clearpage")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
