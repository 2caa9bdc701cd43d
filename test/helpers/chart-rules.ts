/**
 * The readability rules every chart of every report must keep (issue 30), read in the page from Plotly's own
 * state after drawing (`el._fullLayout`, `el._fullData`: the ranges and types Plotly settled on, autorange
 * included) and from the drawn legend:
 * - a legend has at most `MAX_LEGEND` entries;
 * - a log axis spans at most `MAX_DECADES` decades;
 * - no point of a visible scatter trace lies outside the axis range it is drawn on.
 */
import type { Page } from "playwright-core";

/** Most entries a drawn legend may have. */
export const MAX_LEGEND = 12;
/** Most decades a log axis may span. */
export const MAX_DECADES = 8;

/** One chart as Plotly drew it: what the rules read. */
export interface ChartReading {
  /** Position among the page's plots, and its title. */
  index: number;
  title: string;
  legendEntries: number;
  /** Each log axis: its name and the decades its range spans. */
  logAxes: { axis: string; decades: number }[];
  /** Points drawn outside their axis range: at most a few per chart, with where they are. */
  outside: string[];
}

/**
 * Read every Plotly chart on the page (drawn ones only).
 * @example const charts = await readCharts(report.page); chartProblems(charts); // [] when every rule holds
 */
export async function readCharts(page: Page): Promise<ChartReading[]> {
  // A string, not a function: tsx's transform would add helper calls (__name) that do not exist in the page.
  return (await page.evaluate(READ_CHARTS)) as ChartReading[];
}

/** Runs in the page: every `.js-plotly-plot`'s reading, from Plotly's full layout and data. */
const READ_CHARTS = `(() => {
  var plots = Array.from(document.querySelectorAll(".js-plotly-plot"));
  return plots.map(function (el, index) {
    var layout = el._fullLayout || {};
    var title = String((layout.title && layout.title.text) || "");
    var legendEntries = el.querySelectorAll(".legend .traces").length;
    var axisOf = function (ref, letter) { return layout[letter + "axis" + (ref && ref.length > 1 ? ref.slice(1) : "")]; };
    var logAxes = Object.keys(layout).filter(function (key) { return /^[xy]axis\\d*$/.test(key) && layout[key].type === "log"; })
      .map(function (key) { var r = layout[key].range; return { axis: key, decades: Math.abs(r[1] - r[0]) }; });
    var outside = [];
    // A value's place on its axis (log10 on a log axis); null where Plotly draws nothing (a gap, or <= 0 on log).
    var place = function (value, axis) {
      if (typeof value !== "number" || !isFinite(value)) return null;
      if (axis.type === "log") return value > 0 ? Math.log10(value) : null;
      return axis.type === "linear" ? value : null;
    };
    var within = function (v, range) {
      var lo = Math.min(range[0], range[1]), hi = Math.max(range[0], range[1]);
      var slack = (hi - lo) * 1e-9;
      return v >= lo - slack && v <= hi + slack;
    };
    (el._fullData || []).forEach(function (trace) {
      if (trace.visible !== true || trace.type !== "scatter" || !trace.x || !trace.y) return;
      var xa = axisOf(trace.xaxis, "x"), ya = axisOf(trace.yaxis, "y");
      if (!xa || !ya) return;
      for (var k = 0; k < trace.x.length && outside.length < 5; k++) {
        var x = place(trace.x[k], xa), y = place(trace.y[k], ya);
        if (x === null || y === null) continue;
        if (!within(x, xa.range) || !within(y, ya.range)) {
          outside.push((trace.name || "trace") + ": (" + trace.x[k] + ", " + trace.y[k] + ") outside x [" + xa.range.join(", ") + "] y [" + ya.range.join(", ") + "]");
        }
      }
    });
    return { index: index, title: title, legendEntries: legendEntries, logAxes: logAxes, outside: outside };
  });
})()`;

/**
 * What breaks the rules, one line per chart and rule ([] when none does).
 * @example assert.deepEqual(chartProblems(await readCharts(page)), []);
 */
export function chartProblems(charts: readonly ChartReading[]): string[] {
  const problems: string[] = [];
  for (const chart of charts) {
    const name = `chart ${chart.index + 1} "${chart.title.replace(/<[^>]*>/g, "").slice(0, 80)}"`;
    if (chart.legendEntries > MAX_LEGEND) problems.push(`${name}: legend has ${chart.legendEntries} entries (at most ${MAX_LEGEND})`);
    for (const { axis, decades } of chart.logAxes) {
      if (decades > MAX_DECADES + 1e-9) problems.push(`${name}: log ${axis} spans ${decades.toFixed(1)} decades (at most ${MAX_DECADES})`);
    }
    if (chart.outside.length > 0) problems.push(`${name}: points outside their axes: ${chart.outside.join("; ")}`);
  }
  return problems;
}
