/**
 * Vega-Lite specs → SVG text, headless (no browser, no canvas): vega's scenegraph
 * renders to an SVG string. Text widths are estimated, which is good enough for
 * axis labels and titles.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A Vega-Lite spec built by laaf (kept loose: the builders assemble it from parts). */
export type VlSpec = Record<string, unknown>;

export const PLOT_CONFIG = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, fontWeight: 'bold', anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555' },
  view: { stroke: '#bbb' },
};

export async function renderSvg(spec: VlSpec): Promise<string> {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: PLOT_CONFIG, ...spec };
  const vg = compile(full as unknown as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Category colours for up to 20 series. */
export function categoryScheme(count: number): string {
  return count <= 10 ? 'tableau10' : 'tableau20';
}
