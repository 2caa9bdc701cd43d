/**
 * The parallel-coordinates chart's page script (`figures/parallel`): drag along an axis to keep only the runs whose
 * line crosses it in that range (every axis's range must hold), click an axis to clear its range. It reads each
 * line's positions from its `data-y` and fades the others: all in the page, no kernel, no request, so it works in a
 * saved notebook, an exported report and on either kernel.
 */

/** Runs in the page with the chart's container id. */
const BRUSH = `function (id) {
  var root = document.getElementById(id);
  if (!root) return;
  var svg = root.querySelector("svg.mie-pc-svg");
  var status = root.querySelector(".mie-pc-status");
  var lines = Array.prototype.slice.call(root.querySelectorAll(".mie-pc-line")).map(function (path) {
    return { path: path, y: path.getAttribute("data-y").split(",").map(Number) };
  });
  var ranges = {};
  var toSvg = function (event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX; point.y = event.clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse()).y;
  };
  var apply = function () {
    var shown = 0;
    lines.forEach(function (line) {
      var keep = Object.keys(ranges).every(function (k) { var r = ranges[k]; return line.y[k] >= r[0] && line.y[k] <= r[1]; });
      line.path.setAttribute("stroke-opacity", keep ? "0.85" : "0.06");
      if (keep) shown++;
    });
    status.textContent = Object.keys(ranges).length === 0 ? "all " + lines.length + " runs shown" : shown + " of " + lines.length + " runs in the selected ranges";
  };
  Array.prototype.forEach.call(root.querySelectorAll(".mie-pc-axis"), function (axis) {
    var k = axis.getAttribute("data-axis");
    var brush = root.querySelector('.mie-pc-brush[data-axis="' + k + '"]');
    var start = null;
    var draw = function (a, b) {
      brush.setAttribute("y", String(Math.min(a, b)));
      brush.setAttribute("height", String(Math.abs(b - a)));
      brush.setAttribute("visibility", "visible");
    };
    axis.addEventListener("pointerdown", function (event) {
      start = toSvg(event);
      axis.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    axis.addEventListener("pointermove", function (event) { if (start !== null) draw(start, toSvg(event)); });
    axis.addEventListener("pointerup", function (event) {
      if (start === null) return;
      var end = toSvg(event);
      if (Math.abs(end - start) < 3) { delete ranges[k]; brush.setAttribute("visibility", "hidden"); }
      else { ranges[k] = [Math.min(start, end), Math.max(start, end)]; draw(start, end); }
      start = null;
      apply();
    });
  });
}`;

/**
 * The parallel-coordinates chart (`parallelFigure`'s HTML) with its brushing script, as one HTML output.
 * @example show.html(parallelHtml(parallelFigure(runs), "mie-pc-1"));
 */
export function parallelHtml(chart: string, id: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new RangeError(`parallelHtml: id must be letters, digits, - or _, got ${JSON.stringify(id)}`);
  return `<div id="${id}">${chart}</div>\n<script>(${BRUSH})(${JSON.stringify(id)});</script>`;
}
