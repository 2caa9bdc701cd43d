/**
 * Pure math on results: plain numbers and arrays in, plain numbers and arrays out. No tensors, so charts and
 * tests can use these without a backend.
 */

/**
 * Trailing moving average, the same length as `values`: point i is the mean of values[i-window+1 .. i].
 * The first window-1 points average only the values seen so far (1, 2, … window-1 of them), so the curve
 * starts at the first loss instead of being shorter or starting with gaps. A non-finite value (a diverged
 * loss) makes every window that contains it non-finite, as it should.
 * @example movingAverage([4, 2, 6, 0], 2); // Float32Array [4, 3, 4, 3]
 */
export function movingAverage(values: ArrayLike<number>, window = 10): Float32Array {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`movingAverage window: expected a positive integer, got ${String(window)}`);
  }
  const out = new Float32Array(values.length);
  // Summing each window afresh (window is small) avoids the drift and NaN-forever of a running sum.
  for (let i = 0; i < values.length; i++) {
    const start = Math.max(0, i - window + 1);
    let sum = 0;
    for (let j = start; j <= i; j++) sum += values[j]!;
    out[i] = sum / (i - start + 1);
  }
  return out;
}

/**
 * Mean of the last `window` values (all of them if there are fewer): the last point of `movingAverage`.
 * NaN for no values.
 * @example finalAverage([9, 1, 2, 3], 3); // 2
 */
export function finalAverage(values: ArrayLike<number>, window = 10): number {
  const start = Math.max(0, values.length - window);
  let sum = 0;
  for (let i = start; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? NaN : sum / (values.length - start);
}

/**
 * Percentage of predictions equal to the labels.
 * @example accuracy([1, 2, 3, 4], [1, 2, 0, 4]); // 75
 */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength(predicted, labels);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return (100 * correct) / labels.length;
}

/**
 * Counts of (true class, predicted class) pairs: `matrix[label][predicted]`. `predictedClasses` can exceed
 * `classes` when a model has more outputs than the data has classes.
 * @example confusionMatrix([0, 1, 1], [0, 0, 1], 2); // [[1, 0], [1, 1]]
 */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: number,
  predictedClasses = classes,
): number[][] {
  checkSameLength(predicted, labels);
  const matrix = Array.from({ length: classes }, () => new Array<number>(predictedClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const row = matrix[labels[i]!];
    const column = predicted[i]!;
    if (row === undefined || !(column >= 0 && column < predictedClasses)) {
      throw new RangeError(
        `confusionMatrix: pair ${i} (label ${labels[i]}, predicted ${column}) is outside ` +
          `${classes} classes × ${predictedClasses} predicted classes`,
      );
    }
    row[column]!++;
  }
  return matrix;
}

/**
 * Percentage of each true class predicted correctly, from a confusion matrix (`matrix[label][predicted]`).
 * NaN for a class with no examples.
 * @example perClassAccuracy([[1, 0], [1, 1]]); // [100, 50]
 */
export function perClassAccuracy(confusion: readonly (readonly number[])[]): number[] {
  return confusion.map((row, label) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : (100 * (row[label] ?? 0)) / total;
  });
}

/**
 * Index of the largest value in each row of a row-major [rows][columns] array (the first one on ties, as
 * PyTorch's argmax does). A row containing NaN counts NaN as largest, as PyTorch's argmax does.
 * @example argmaxRows(Float32Array.of(0, 2, 1, 5, 3, 4), 3); // Int32Array [1, 0]
 */
export function argmaxRows(values: ArrayLike<number>, columns: number): Int32Array {
  if (!Number.isInteger(columns) || columns < 1 || values.length % columns !== 0) {
    throw new RangeError(`argmaxRows: ${values.length} values do not split into rows of ${columns} columns`);
  }
  const rows = values.length / columns;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = values[r * columns]!;
    for (let c = 1; c < columns && !Number.isNaN(bestValue); c++) {
      const value = values[r * columns + c]!;
      if (value > bestValue || Number.isNaN(value)) {
        best = c;
        bestValue = value;
      }
    }
    out[r] = best;
  }
  return out;
}

function checkSameLength(predicted: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (predicted.length !== labels.length) {
    throw new RangeError(`expected as many predictions as labels, got ${predicted.length} predictions and ${labels.length} labels`);
  }
  if (labels.length === 0) throw new RangeError("expected at least one label, got none");
}

/**
 * How much of the spread of `values` one grouping explains: η² (the correlation ratio; one-way ANOVA's effect
 * size), the sum of squares between the groups' means over the total sum of squares about the overall mean. 1: the
 * group alone fixes the value; 0: every group has the same mean. NaN when the values do not vary or fewer than two
 * are given. Non-finite values are the caller's to leave out.
 * @example etaSquared([90, 92, 60, 62], ["adam", "adam", "sgd", "sgd"]); // 0.9956…
 */
export function etaSquared(values: readonly number[], groups: readonly (string | number)[]): number {
  if (values.length !== groups.length) throw new RangeError(`etaSquared: ${values.length} values but ${groups.length} groups; expected one group per value`);
  if (values.length < 2) return NaN;
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const total = values.reduce((sum, v) => sum + (v - mean) ** 2, 0);
  if (!(total > 0)) return NaN;
  const byGroup = new Map<string, { sum: number; count: number }>();
  values.forEach((v, i) => {
    const key = String(groups[i]);
    const group = byGroup.get(key) ?? { sum: 0, count: 0 };
    group.sum += v;
    group.count++;
    byGroup.set(key, group);
  });
  let between = 0;
  for (const { sum, count } of byGroup.values()) between += count * (sum / count - mean) ** 2;
  return between / total;
}
