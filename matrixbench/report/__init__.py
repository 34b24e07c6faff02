"""Reports: static, self-contained HTML pages (and a Markdown summary) from run files.

``model`` turns runs into what is shown (tables, winners, fronts, fits, history);
``plots`` draws SVG with matplotlib; ``render`` fills the Jinja2 templates.
"""

from .model import build_model
from .render import write_comparison, write_report

__all__ = ["build_model", "write_comparison", "write_report"]
