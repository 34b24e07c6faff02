// Click a column header to sort its table; numbers sort by their data-v value.
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var dir = th.dataset.dir === "asc" ? "desc" : "asc";
      table.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
      th.dataset.dir = dir;
      var value = function (row) {
        var cell = row.children[col];
        if (cell.dataset.v === undefined) return cell.textContent.trim();
        var n = parseFloat(cell.dataset.v);
        return isNaN(n) ? null : n;
      };
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = value(a), y = value(b);
        if (x === null || y === null) return (x === null) - (y === null);  // blanks last
        var r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return dir === "asc" ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});

// "copy as Markdown / LaTeX": the table as displayed (its current order), by the rules of
// matrixbench/report/tables.py (numbers right-aligned; LaTeX with booktabs rules). The
// text is copied where the browser allows it, and shown in a box below the buttons.
var LATEX = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_", "{": "\\{",
  "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}", "±": "\\ensuremath{\\pm}", "≤": "\\ensuremath{\\le}",
  "≥": "\\ensuremath{\\ge}", "×": "\\ensuremath{\\times}", "µ": "\\ensuremath{\\mu}", "−": "-", "→": "\\ensuremath{\\to}",
  "<": "\\textless{}", ">": "\\textgreater{}"};
function latexEscape(s) {
  return Array.from(s).map(function (c) { return LATEX[c] || (c.charCodeAt(0) < 128 ? c : "?"); }).join("");
}
function cellText(cell) { return (cell.dataset.t !== undefined ? cell.dataset.t : cell.textContent).trim().replace(/\s+/g, " "); }
function exportTable(table, format) {
  var header = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.replace(/[▲▼]/g, "").trim(); });
  var rows = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return Array.prototype.map.call(r.cells, cellText); });
  var num = header.map(function (h, i) {
    var first = Array.prototype.find.call(table.tBodies[0].rows, function (r) { return cellText(r.cells[i]) !== "-"; });
    return first ? first.cells[i].classList.contains("num") : false;
  });
  if (format === "markdown") {
    var md = function (s) { return s.replace(/\|/g, "\\|"); };
    return ["| " + header.map(md).join(" | ") + " |", "|" + num.map(function (n) { return n ? "---:" : "---"; }).join("|") + "|"]
      .concat(rows.map(function (r) { return "| " + r.map(md).join(" | ") + " |"; })).join("\n");
  }
  var caption = table.dataset.caption ? ["\\caption{" + latexEscape(table.dataset.caption) + "}"] : [];
  return ["\\begin{table}[htbp]", "\\centering", "\\scriptsize"].concat(caption, [
    "\\begin{tabular}{" + num.map(function (n) { return n ? "r" : "l"; }).join("") + "}", "\\toprule",
    header.map(latexEscape).join(" & ") + " \\\\", "\\midrule"],
    rows.map(function (r) { return r.map(latexEscape).join(" & ") + " \\\\"; }),
    ["\\bottomrule", "\\end{tabular}", "\\end{table}"]).join("\n");
}
document.querySelectorAll(".table-tools button").forEach(function (button) {
  button.addEventListener("click", function () {
    var tools = button.parentElement;
    var table = tools.nextElementSibling.querySelector("table");
    var text = exportTable(table, button.dataset.export);
    var box = tools.querySelector("textarea") || tools.appendChild(document.createElement("textarea"));
    box.className = "export";
    box.readOnly = true;
    box.value = text;
    box.select();
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(function () {});
  });
});
