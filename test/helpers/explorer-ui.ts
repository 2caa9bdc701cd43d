/**
 * Driving an explorer chart (`exploreFigure`) in a real page as its reader does: clicking a slider's tick, then
 * reading what was drawn (the SVG, not Plotly's data): the bold curve's path, the red box on the heatmap, the line
 * of text above the curves.
 */
import type { Page } from "playwright-core";

/** What an explorer chart shows at one moment. */
export interface ExplorerState {
  /** The `d` of every drawn curve whose stroke is the picked width (2.5 px): the picked run's loss curve. */
  boldCurves: string[];
  /** The `d` of the heatmap's highlight box (the first layout shape, red). */
  box: string;
  /** The line above the curves: which cell is picked and what its run reached. */
  text: string;
  /** Each slider's label as Plotly shows it ("lr: 0.5"). */
  sliders: string[];
  /** How many heatmap cells have a number written in them (measured runs). */
  measuredCells: number;
}

/**
 * Read an explorer chart's state from its SVG. `index` picks the explorer among the page's plots that have sliders.
 * @example const before = await explorerState(page); await clickSliderStep(page, 0, 3); const after = await explorerState(page);
 */
export async function explorerState(page: Page, index = 0): Promise<ExplorerState> {
  return page.evaluate((n) => {
    const plots = Array.from(document.querySelectorAll(".js-plotly-plot")).filter((el) => el.querySelector(".slider-container"));
    const el = plots[n];
    if (!el) throw new Error(`no explorer chart #${n} on the page (${plots.length} plots with sliders)`);
    const boldCurves = Array.from(el.querySelectorAll(".scatterlayer .trace path.js-line"))
      .filter((path) => parseFloat((path as SVGPathElement).style.strokeWidth) === 2.5)
      .map((path) => path.getAttribute("d") ?? "");
    // The highlight is the red shape (#d62728); grey diverged cells are shapes too.
    const box = Array.from(el.querySelectorAll(".shapelayer path"))
      .find((path) => (path as SVGPathElement).style.stroke.replace(/\s/g, "") === "rgb(214,39,40)")?.getAttribute("d") ?? "";
    const text = Array.from(el.querySelectorAll(".annotation-text")).map((t) => t.textContent ?? "").join(" | ");
    const sliders = Array.from(el.querySelectorAll(".slider-container .slider-group")).map((g) => g.querySelector(":scope > text.slider-label")?.textContent ?? "");
    const measuredCells = Array.from(el.querySelectorAll(".scatterlayer .textpoint text"))
      .filter((t) => /^\d+(\.\d)?$/.test(t.textContent ?? "")).length;
    return { boldCurves, box, text, sliders, measuredCells };
  }, index);
}

/**
 * Click slider `slider`'s tick number `step` of explorer chart `index`, as a reader would, and wait for the redraw.
 * @example await clickSliderStep(page, 1, 0); // the second slider to its first value
 */
export async function clickSliderStep(page: Page, slider: number, step: number, index = 0): Promise<void> {
  const point = await page.evaluate(([n, s, t]) => {
    const plots = Array.from(document.querySelectorAll(".js-plotly-plot")).filter((el) => el.querySelector(".slider-container"));
    const group = plots[n!]?.querySelectorAll(".slider-container .slider-group")[s!];
    const tick = group?.querySelectorAll(".slider-tick-rect")[t!];
    const rail = group?.querySelector(".slider-rail-rect");
    if (!tick || !rail) throw new Error(`explorer #${n}: no slider ${s} with a tick ${t}`);
    tick.scrollIntoView({ block: "center" });
    const a = tick.getBoundingClientRect();
    const r = rail.getBoundingClientRect();
    return { x: a.left + a.width / 2, y: r.top + r.height / 2 };
  }, [index, slider, step]);
  await page.mouse.click(point.x, point.y);
  // The page script restyles after Plotly's own redraw of the slider: give both a moment.
  await page.waitForTimeout(300);
}
