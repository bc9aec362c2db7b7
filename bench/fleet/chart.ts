/**
 * The scale suite's chart: one panel per workload, cost per item (µs, log scale) against N (log
 * scale), one line per client; a partial point (a client that stopped short of N) is drawn
 * hollow. Plain SVG written by hand: no dependency, readable as text.
 */

/** One point: N, cost per item in µs, and whether the client processed fewer items than N. */
export interface ChartPoint {
  n: number;
  usPerItem: number;
  partial: boolean;
}

export interface ChartPanel {
  title: string;
  axis: string;
  /** Client label → its points (any order). */
  lines: Map<string, ChartPoint[]>;
}

const PANEL_W = 380;
const PANEL_H = 250;
const MARGIN = { left: 62, right: 14, top: 34, bottom: 44 };
const COLUMNS = 3;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Powers of ten covering [min, max] (at least one decade). */
function decades(min: number, max: number): [number, number] {
  const low = Math.floor(Math.log10(min));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  return [low, high];
}

const tick = (exponent: number) => {
  const value = 10 ** exponent;
  return value >= 1000 ? `${value / 1000}k`.replace('000k', 'M') : String(value);
};

function panel(p: ChartPanel, x0: number, y0: number, colours: Map<string, string>): string {
  const points = [...p.lines.values()].flat();
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const out: string[] = [
    `<g transform="translate(${x0},${y0})">`,
    `<text x="${PANEL_W / 2}" y="18" text-anchor="middle" font-weight="bold">${escape(p.title)}</text>`,
  ];
  if (points.length === 0) return [...out, '</g>'].join('\n');
  const [xLow, xHigh] = decades(Math.min(...points.map((q) => q.n)), Math.max(...points.map((q) => q.n)));
  const [yLow, yHigh] = decades(
    Math.min(...points.map((q) => q.usPerItem)),
    Math.max(...points.map((q) => q.usPerItem)),
  );
  const x = (n: number) => MARGIN.left + ((Math.log10(n) - xLow) / (xHigh - xLow)) * w;
  const y = (us: number) => MARGIN.top + h - ((Math.log10(us) - yLow) / (yHigh - yLow)) * h;
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  );
  for (let e = xLow; e <= xHigh; e++)
    out.push(
      `<line x1="${x(10 ** e)}" y1="${MARGIN.top}" x2="${x(10 ** e)}" y2="${MARGIN.top + h}" stroke="#eee"/>`,
      `<text x="${x(10 ** e)}" y="${MARGIN.top + h + 14}" text-anchor="middle">${tick(e)}</text>`,
    );
  for (let e = yLow; e <= yHigh; e++)
    out.push(
      `<line x1="${MARGIN.left}" y1="${y(10 ** e)}" x2="${MARGIN.left + w}" y2="${y(10 ** e)}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 4}" y="${y(10 ** e) + 4}" text-anchor="end">${tick(e)}</text>`,
    );
  out.push(
    `<text x="${MARGIN.left + w / 2}" y="${PANEL_H - 8}" text-anchor="middle">${escape(p.axis)} (N)</text>`,
    `<text transform="translate(14,${MARGIN.top + h / 2}) rotate(-90)" text-anchor="middle">µs per item</text>`,
  );
  for (const [client, line] of p.lines) {
    const colour = colours.get(client)!;
    const sorted = [...line].sort((a, b) => a.n - b.n);
    const path = sorted.map((q) => `${x(q.n).toFixed(1)},${y(q.usPerItem).toFixed(1)}`).join(' ');
    if (sorted.length > 1)
      out.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const q of sorted)
      out.push(
        `<circle cx="${x(q.n).toFixed(1)}" cy="${y(q.usPerItem).toFixed(1)}" r="3.5" stroke="${colour}" ` +
          `fill="${q.partial ? 'white' : colour}"><title>${escape(client)}: N ${q.n}, ${q.usPerItem.toPrecision(3)} µs/item${q.partial ? ' (partial)' : ''}</title></circle>`,
      );
  }
  return [...out, '</g>'].join('\n');
}

/** The whole chart: a legend line, then the panels in rows of three. */
export function scaleChart(title: string, panels: readonly ChartPanel[]): string {
  const clients = [...new Set(panels.flatMap((p) => [...p.lines.keys()]))];
  const colours = new Map(clients.map((client, i) => [client, COLOURS[i % COLOURS.length]!]));
  const rows = Math.ceil(panels.length / COLUMNS);
  const width = COLUMNS * PANEL_W;
  const height = 56 + rows * PANEL_H;
  const legend = clients.map(
    (client, i) =>
      `<g transform="translate(${12 + i * 150},40)"><line x1="0" y1="-4" x2="24" y2="-4" stroke="${colours.get(client)}" stroke-width="2"/>` +
      `<text x="30" y="0">${escape(client)}</text></g>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="${12 + clients.length * 150}" y="40">hollow: partial (fewer items than N); lower is better</text>`,
    ...legend,
    ...panels.map((p, i) =>
      panel(p, (i % COLUMNS) * PANEL_W, 56 + Math.floor(i / COLUMNS) * PANEL_H, colours),
    ),
    '</svg>',
    '',
  ].join('\n');
}
