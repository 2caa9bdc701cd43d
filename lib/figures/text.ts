/**
 * Caller text and numbers made safe and readable for display. Every caller-given text (run labels, titles, class
 * names) is escaped, because Plotly renders a subset of HTML in titles, legends and annotations (`plotlyText`),
 * and the tables are HTML (`escapeHtml`).
 */

/**
 * Escape text for HTML (the results table, status lines), so a label such as `<script>` shows as text.
 * @example escapeHtml("a<b & c"); // "a&lt;b &amp; c"
 */
export function escapeHtml(text: unknown): string {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Escape text for Plotly's titles, legends, hover labels and annotations. Plotly renders a few HTML-like tags there
 * (`<b>`, `<br>`, `<a href>`…) and decodes only some entities (`&quot;` would show literally), so exactly `&`, `<`
 * and `>` are escaped.
 * @example plotlyText("<b>lr</b> & co"); // "&lt;b&gt;lr&lt;/b&gt; &amp; co"
 */
export function plotlyText(text: unknown): string {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A number rounded to `significant` digits: figure JSON stays small, and more digits would not show.
 * @example round(0.123456, 3); // 0.123
 */
export function round(value: number, significant: number): number {
  return Number(value.toPrecision(significant));
}

/**
 * A fixed number of decimals; a dash for a missing (non-finite) value, so a table cell never reads "NaN".
 * @example fmtFixed(84.236, 2); // "84.24"
 */
export function fmtFixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}
