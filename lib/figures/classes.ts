/** Results by class: the confusion matrix, and test accuracy per class. */
import type { Annotation, Data } from "plotly.js-dist-min";
import { asList, classNames, kindOf, isArrayLike } from "./check";
import { positiveOr1, RUN_COLOURS, TEXT_COLOUR } from "./colours";
import { baseConfig, legendBelow, titleOf, type Figure } from "./kit";
import { divergedStep, type RunNumbers } from "./runs";
import { formatCount } from "../math/format";
import { plotlyText, round } from "./text";

/** Options for `confusionFigure`. */
export interface ConfusionOptions {
  title?: string;
  classNames?: readonly string[];
}

/**
 * Confusion matrix: true class in rows (top to bottom), predicted class in columns, counts written in the cells.
 * Correct predictions (the diagonal) are green, mistakes red on their own scale, so the few hundred mistakes
 * are visible next to diagonals of ~1000.
 * @example show.figure(confusionFigure(run.confusion!, { title: "784-10, lr 0.5" }));
 */
export function confusionFigure(confusion: ArrayLike<ArrayLike<number>>, options: ConfusionOptions = {}): Figure {
  const matrix = checkConfusion(confusion);
  const n = matrix.length;
  const names = classNames(options.classNames, n, "confusionFigure: options.classNames");
  const offDiagonal = matrix.map((row, r) => row.map((v, c) => (r === c ? null : v)));
  const diagonal = matrix.map((row, r) => row.map((v, c) => (r === c ? v : null)));
  const maxMistake = Math.max(0, ...matrix.flatMap((row, r) => row.filter((_, c) => c !== r)));
  const maxCorrect = Math.max(0, ...matrix.map((row, r) => row[r]!));
  const common = {
    x0: 0, dx: 1, y0: 0, dy: 1, text: hoverText(matrix, names), hovertemplate: "%{text}<extra></extra>", hoverongaps: false, xgap: 1, ygap: 1,
  };
  const annotations = countLabels(matrix, maxCorrect, maxMistake);
  const ticks = { tickvals: names.map((_, i) => i), ticktext: names, ticks: "" as const, showgrid: false, zeroline: false };
  return {
    data: [
      {
        type: "heatmap",
        ...common,
        z: offDiagonal,
        zmin: 0,
        zmax: positiveOr1(maxMistake),
        colorscale: [
          [0, "#fff5f0"],
          [0.5, "#fb6a4a"],
          [1, "#67000d"],
        ],
        colorbar: { title: { text: "mistakes" }, thickness: 12, len: 0.6 },
      },
      {
        type: "heatmap",
        ...common,
        z: diagonal,
        zmin: 0,
        zmax: positiveOr1(maxCorrect),
        colorscale: [
          [0, "#f7fcf5"],
          [0.5, "#74c476"],
          [1, "#00441b"],
        ],
        showscale: false,
      },
    ],
    layout: {
      title: titleOf(options.title ?? "Confusion matrix (test set)", "green: correct · red: mistakes, on their own scale"),
      // Fixed width: a square matrix gains nothing from a wide cell, and its colour bar stays next to it.
      height: 560,
      width: 660,
      margin: { t: 80, r: 20, b: 60, l: 70 },
      xaxis: { ...ticks, title: { text: "predicted class" }, side: "bottom", constrain: "domain" },
      yaxis: { ...ticks, title: { text: "true class" }, autorange: "reversed", scaleanchor: "x", constrain: "domain" },
      annotations,
      plot_bgcolor: "#ffffff",
    },
    config: baseConfig(),
  };
}

/** The matrix as plain rows, after checking it is square and holds counts. */
function checkConfusion(confusion: ArrayLike<ArrayLike<number>>): number[][] {
  if (!isArrayLike(confusion) || confusion.length === 0) {
    throw new TypeError(`confusionFigure: confusion must be a square matrix of counts, got ${kindOf(confusion)}`);
  }
  const n = confusion.length;
  return Array.from({ length: n }, (_, r) => {
    const row = confusion[r];
    if (!isArrayLike(row) || row.length !== n) {
      throw new RangeError(`confusionFigure: confusion[${r}] has ${kindOf(row)}; expected ${n} counts (square matrix)`);
    }
    return Array.from(row, (v, c) => {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`confusionFigure: confusion[${r}][${c}] = ${v}; expected a count`);
      return v;
    });
  });
}

/** Each cell's hover: true and predicted class, the count, and its share of the true class's images. */
function hoverText(matrix: readonly number[][], names: readonly string[]): string[][] {
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  return matrix.map((row, r) =>
    row.map((v, c) => {
      const share = rowTotals[r]! > 0 ? ` (${((100 * v) / rowTotals[r]!).toFixed(1)}% of true ${names[r]})` : "";
      return `true ${names[r]} · predicted ${names[c]}<br>${formatCount(v)} images${share}`;
    }),
  );
}

/** The count written in every non-empty cell, white where its colour is dark. */
function countLabels(matrix: readonly number[][], maxCorrect: number, maxMistake: number): Partial<Annotation>[] {
  const annotations: Partial<Annotation>[] = [];
  matrix.forEach((row, r) =>
    row.forEach((v, c) => {
      if (v === 0) return;
      const strength = r === c ? v / positiveOr1(maxCorrect) : v / positiveOr1(maxMistake);
      annotations.push({
        text: String(v), x: c, y: r, xref: "x", yref: "y", showarrow: false,
        // White on the darkest cells, where the default text colour would not read.
        font: { size: matrix.length > 12 ? 9 : 11, color: strength > 0.55 ? "#ffffff" : TEXT_COLOUR },
      });
    }),
  );
  return annotations;
}

/** Options for `perClassFigure`. */
export interface PerClassOptions {
  title?: string;
  classNames?: readonly string[];
}

/**
 * Test accuracy of each class as bars (0–100 %), one colour per run when several runs are given.
 * @example show.figure(perClassFigure(runs));
 */
export function perClassFigure(
  perClass: ArrayLike<number> | RunNumbers | readonly RunNumbers[],
  options: PerClassOptions = {},
): Figure {
  let series: { label?: string; values: ArrayLike<number> }[];
  if (isArrayLike(perClass) && (perClass.length === 0 || typeof perClass[0] === "number")) {
    series = [{ values: perClass as ArrayLike<number> }];
  } else {
    series = asList(perClass as RunNumbers | readonly RunNumbers[], "perClassFigure: perClass").map((run, i) => {
      const step = run ? divergedStep(run) : null;
      if (step !== null) {
        throw new RangeError(`perClassFigure: run ${i} (${JSON.stringify(run.label)}) diverged at step ${step} and was not evaluated: it has no per-class accuracy`);
      }
      if (!run || !isArrayLike(run.perClassAccuracy)) {
        throw new TypeError(
          `perClassFigure: run ${i} (${JSON.stringify(run?.label)}) has no perClassAccuracy; pass numbers or runs that have it`,
        );
      }
      return { label: String(run.label), values: run.perClassAccuracy };
    });
  }
  const n = series[0]!.values.length;
  if (n === 0) throw new RangeError("perClassFigure: perClass is empty; expected one accuracy (%) per class");
  series.forEach((s, i) => {
    if (s.values.length !== n) {
      throw new RangeError(`perClassFigure: run ${i} has ${s.values.length} classes, run 0 has ${n}`);
    }
  });
  const names = classNames(options.classNames, n, "perClassFigure: options.classNames");
  const data: Data[] = series.map((s, i) => ({
    type: "bar",
    name: s.label !== undefined ? plotlyText(s.label) : "accuracy",
    x: names,
    y: Array.from(s.values, (v) => (Number.isFinite(v) ? round(v, 4) : null)),
    marker: { color: RUN_COLOURS[i % RUN_COLOURS.length]! },
    text: Array.from(s.values, (v) => (Number.isFinite(v) ? v.toFixed(1) : "")),
    textposition: series.length > 2 ? "none" : "inside",
    textangle: 0,
    insidetextanchor: "end",
    textfont: { size: 10 },
    hovertemplate: `${s.label !== undefined ? "%{fullData.name}<br>" : ""}class %{x}: %{y:.2f}%<extra></extra>`,
  }));
  // Start the axis just below the worst class, so differences of a few points between classes stay visible.
  const finite = series.flatMap((s) => Array.from(s.values)).filter(Number.isFinite);
  const low = finite.length ? Math.max(0, Math.floor((Math.min(...finite) - 5) / 10) * 10) : 0;
  return {
    data,
    layout: {
      title: titleOf(options.title ?? "Test accuracy per class", low > 0 ? `the axis starts at ${low}%` : undefined),
      ...legendBelow(series.length > 1 ? series.map((s) => s.label ?? "") : [], 380, { t: 60, r: 20, b: 60, l: 70 }),
      barmode: "group",
      xaxis: { title: { text: "class" }, type: "category" },
      yaxis: { title: { text: "test accuracy (%)" }, range: [low, 100] },
    },
    config: baseConfig(),
  };
}
