/**
 * The explorer's page script: Plotly's sliders move on their own, but a slider step cannot know where the other
 * slider stands, so each step is "skip" and this script, on every `plotly_sliderchange`, reads both sliders and
 * restyles from the cell table `exploreFigure` put in `layout.meta.mieExplore`: the picked run's curve bold, the
 * others faint, its accuracy curve shown, the red box on its heatmap cell, the line above the curves. All in the
 * page: no kernel, no request.
 */
import type { Figure } from "../figures";

/** Runs in the page as `(Plotly, plotDiv)`, after the chart is drawn. */
const FOLLOW_SLIDERS = `function (Plotly, el) {
  var meta = el.layout && el.layout.meta && el.layout.meta.mieExplore;
  if (!meta || typeof el.on !== "function") return;
  var pick = function () {
    var sliders = el.layout.sliders || [];
    var at = function (k) { return sliders[k] && sliders[k].active ? sliders[k].active : 0; };
    var cell = meta.cells[at(0) + meta.shape[0] * at(1)];
    if (!cell) return;
    var colors = meta.curves.map(function (t) { return t === cell.curve ? meta.picked.color : meta.faint.color; });
    var widths = meta.curves.map(function (t) { return t === cell.curve ? meta.picked.width : meta.faint.width; });
    var update = Plotly.restyle(el, { "line.color": colors, "line.width": widths }, meta.curves);
    if (meta.accuracies.length > 0) {
      update = update.then(function () {
        return Plotly.restyle(el, { visible: meta.accuracies.map(function (t) { return t === cell.accuracy; }) }, meta.accuracies);
      });
    }
    return update.then(function () {
      return Plotly.relayout(el, {
        "shapes[0].x0": cell.box[0], "shapes[0].x1": cell.box[1], "shapes[0].y0": cell.box[2], "shapes[0].y1": cell.box[3],
        "annotations[0].text": cell.text
      });
    });
  };
  el.on("plotly_sliderchange", function () { pick(); });
}`;

/**
 * The script that makes an explorer figure's sliders pick a run, as a call to append after `Plotly.newPlot`
 * resolves; "" for any other figure (they need none).
 * @example figureHtml(exploreFigure(runs, { by: ["lr"] }), "explore-1"); // includes exploreScript's call
 */
export function exploreScript(fig: Figure, plotly: string, el: string): string {
  const meta = (fig.layout as { meta?: { mieExplore?: unknown } }).meta;
  return meta && typeof meta === "object" && meta.mieExplore ? `(${FOLLOW_SLIDERS})(${plotly}, ${el});` : "";
}
