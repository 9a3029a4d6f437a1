/**
 * Width of a sweep's spread bands (convergence.svg) and whiskers (final.svg): mean ± 1
 * or ± 2 sample standard deviations (n − 1). The papers draw ± 2. Set by a sweep
 * file's `plots: { band: 2std }` or `laaf plot --band 2std`. (A module of its own, free
 * of the renderer, so that reading a sweep file does not load Vega.)
 */
export const BAND_WIDTHS = ['1std', '2std'] as const;
export type BandWidth = (typeof BAND_WIDTHS)[number];

/** How many standard deviations a band of this width spans on each side of the mean. */
export function bandStds(b: BandWidth | undefined): number {
  return b === '2std' ? 2 : 1;
}
