/** One bucket of the chart, in time order; gaps (buckets without data) are allowed. */
export interface ChartPoint {
  /** Start of the bucket, epoch ms. */
  at: number;
  /** The load in instances at the target (usage / (target × one instance)), a real number; undefined: no data. */
  needed?: number;
  /** The most instances the backtest ran in the bucket. */
  backtest: number;
  /** Instances that actually ran (the recorded task count); undefined when not recorded. */
  actual?: number;
}

export interface ChartInput {
  title: string;
  from: number;
  to: number;
  points: ChartPoint[];
  minInstances: number;
  maxInstances: number;
  /** The backtest's scale actions, ticks under the time axis. */
  actions: { at: number; direction: 'up' | 'down' }[];
}

export const CHART_COLOURS = { needed: '#9ecae1', backtest: '#d62728', actual: '#555555', bounds: '#2ca02c' } as const;

const WIDTH = 1200;
const HEIGHT = 500;
const PLOT = { left: 60, right: WIDTH - 20, top: 50, bottom: HEIGHT - 70 };
const DAY_MS = 24 * 3600_000;

export interface ChartGeometry {
  width: number;
  height: number;
  plot: typeof PLOT;
  /** Highest instance count on the y axis. */
  yMax: number;
  x(at: number): number;
  y(instances: number): number;
}

/** Where things land on the chart (SVG units = pixels when rendered at its own size); the test samples pixels with it. */
export function chartGeometry(input: ChartInput): ChartGeometry {
  let highest = input.minInstances + 1;
  for (const point of input.points) highest = Math.max(highest, point.needed ?? 0, point.backtest, point.actual ?? 0);
  const yMax = niceCeiling(highest * 1.1);
  const span = Math.max(1, input.to - input.from);
  return {
    width: WIDTH,
    height: HEIGHT,
    plot: PLOT,
    yMax,
    x: (at) => PLOT.left + ((at - input.from) / span) * (PLOT.right - PLOT.left),
    y: (instances) => PLOT.bottom - (instances / yMax) * (PLOT.bottom - PLOT.top),
  };
}

interface Column {
  needed?: number;
  backtest?: number;
  actual?: number;
}

/**
 * The load (as instances at the target, a filled area), the backtest's instances (a step line) and the recorded ones
 * (a dashed step line) over time, with the policy's min and max. Hand-written SVG: one pixel column per sample at most,
 * each the highest value of the buckets it covers (a one-minute peak in a month stays visible); a column without data
 * breaks the area and the lines instead of bridging the gap. Pure.
 */
export function renderChart(input: ChartInput): string {
  const geometry = chartGeometry(input);
  const { x, y, yMax } = geometry;
  const columns = PLOT.right - PLOT.left;
  const byColumn: (Column | undefined)[] = new Array(columns);
  for (const point of input.points) {
    const column = Math.min(columns - 1, Math.max(0, Math.floor(x(point.at) - PLOT.left)));
    const cell = (byColumn[column] ??= {});
    if (point.needed !== undefined) cell.needed = Math.max(cell.needed ?? 0, point.needed);
    cell.backtest = Math.max(cell.backtest ?? 0, point.backtest);
    if (point.actual !== undefined) cell.actual = Math.max(cell.actual ?? 0, point.actual);
  }
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="22" font-size="16" font-weight="bold">${escapeXml(input.title)}</text>`,
  );
  parts.push(...yAxis(yMax, y), ...xAxis(input.from, input.to, x));
  parts.push(areaPath(byColumn, y), stepPath(byColumn, 'actual', y, CHART_COLOURS.actual, 'stroke-width="2" stroke-dasharray="5 3"'));
  parts.push(stepPath(byColumn, 'backtest', y, CHART_COLOURS.backtest, 'stroke-width="2"'));
  for (const [label, value] of [['min', input.minInstances], ['max', input.maxInstances]] as const) {
    if (value > yMax) continue;
    const at = round(y(value));
    parts.push(
      `<line x1="${PLOT.left}" y1="${at}" x2="${PLOT.right}" y2="${at}" stroke="${CHART_COLOURS.bounds}" stroke-width="2" stroke-dasharray="3 3"/>`,
      `<text x="${PLOT.right - 4}" y="${round(at - 3)}" text-anchor="end" fill="${CHART_COLOURS.bounds}">${label} ${value}</text>`,
    );
  }
  for (const action of input.actions) {
    const at = round(x(action.at));
    const tip = action.direction === 'up' ? PLOT.bottom + 4 : PLOT.bottom + 10;
    parts.push(`<line x1="${at}" y1="${PLOT.bottom + 4}" x2="${at}" y2="${tip + 6}" stroke="${CHART_COLOURS.backtest}" stroke-width="1"/>`);
  }
  if (input.points.length === 0) {
    parts.push(`<text x="${(PLOT.left + PLOT.right) / 2}" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" fill="#888888">no recorded usage</text>`);
  }
  parts.push(...legend());
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function areaPath(columns: (Column | undefined)[], y: (value: number) => number): string {
  const base = round(y(0));
  let d = '';
  let open = false;
  for (let column = 0; column < columns.length; column++) {
    const value = columns[column]?.needed;
    const left = PLOT.left + column;
    if (value === undefined) {
      if (open) d += `L${left} ${base}Z`;
      open = false;
      continue;
    }
    const top = round(y(value));
    d += open ? `L${left} ${top}` : `M${left} ${base}L${left} ${top}`;
    d += `L${left + 1} ${top}`;
    open = true;
  }
  if (open) d += `L${PLOT.left + columns.length} ${base}Z`;
  return `<path d="${d}" fill="${CHART_COLOURS.needed}" stroke="none"/>`;
}

function stepPath(columns: (Column | undefined)[], key: 'backtest' | 'actual', y: (value: number) => number, colour: string, style: string): string {
  let d = '';
  let previous: number | undefined;
  for (let column = 0; column < columns.length; column++) {
    const value = columns[column]?.[key];
    const left = PLOT.left + column;
    if (value === undefined) {
      previous = undefined;
      continue;
    }
    const at = round(y(value));
    if (previous === undefined) d += `M${left} ${at}`;
    else if (previous !== at) d += `L${left} ${previous}L${left} ${at}`;
    d += `L${left + 1} ${at}`;
    previous = at;
  }
  return `<path d="${compact(d)}" fill="none" stroke="${colour}" ${style}/>`;
}

/** Drops the points in the middle of a horizontal run: a flat month is one segment, not 1,000. */
function compact(d: string): string {
  const commands = d.match(/[ML][^ML]+/g) ?? [];
  const kept: string[] = [];
  for (const command of commands) {
    const previous = kept[kept.length - 1];
    const beforePrevious = kept[kept.length - 2];
    if (command[0] === 'L' && previous?.[0] === 'L' && beforePrevious !== undefined) {
      const [, y1] = previous.slice(1).split(' ');
      const [, y0] = beforePrevious.slice(1).split(' ');
      const [, y2] = command.slice(1).split(' ');
      if (y0 === y1 && y1 === y2) {
        kept[kept.length - 1] = command;
        continue;
      }
    }
    kept.push(command);
  }
  return kept.join('');
}

function yAxis(yMax: number, y: (value: number) => number): string[] {
  const step = niceStep(yMax / 6);
  const parts: string[] = [];
  for (let value = 0; value <= yMax + 1e-9; value += step) {
    const at = round(y(value));
    parts.push(
      `<line x1="${PLOT.left}" y1="${at}" x2="${PLOT.right}" y2="${at}" stroke="#e5e5e5" stroke-width="1"/>`,
      `<text x="${PLOT.left - 6}" y="${round(at + 4)}" text-anchor="end" fill="#333333">${round(value)}</text>`,
    );
  }
  parts.push(
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}" stroke="#333333" stroke-width="1"/>`,
    `<text x="16" y="${(PLOT.top + PLOT.bottom) / 2}" transform="rotate(-90 16 ${(PLOT.top + PLOT.bottom) / 2})" text-anchor="middle" fill="#333333">instances</text>`,
  );
  return parts;
}

function xAxis(from: number, to: number, x: (at: number) => number): string[] {
  const span = to - from;
  const stepMs = [3600_000, 3 * 3600_000, 6 * 3600_000, 12 * 3600_000, DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 14 * DAY_MS, 28 * DAY_MS].find((step) => span / step <= 14) ?? 28 * DAY_MS;
  const parts = [`<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="#333333" stroke-width="1"/>`];
  for (let at = Math.ceil(from / stepMs) * stepMs; at <= to; at += stepMs) {
    const left = round(x(at));
    const date = new Date(at);
    const label = stepMs >= DAY_MS ? date.toISOString().slice(5, 10) : date.getUTCHours() === 0 ? `${date.toISOString().slice(5, 10)} 00:00` : date.toISOString().slice(11, 16);
    parts.push(
      `<line x1="${left}" y1="${PLOT.bottom}" x2="${left}" y2="${PLOT.bottom + 4}" stroke="#333333" stroke-width="1"/>`,
      // The last label would run off the right edge: it ends at its tick instead.
      `<text x="${left}" y="${PLOT.bottom + 30}" text-anchor="${left > PLOT.right - 40 ? 'end' : 'middle'}" fill="#333333">${label}</text>`,
    );
  }
  parts.push(`<text x="${PLOT.right}" y="${HEIGHT - 8}" text-anchor="end" fill="#333333">UTC</text>`);
  return parts;
}

function legend(): string[] {
  const y = HEIGHT - 12;
  const entries: [string, string][] = [
    [`<rect x="0" y="-9" width="18" height="10" fill="${CHART_COLOURS.needed}"/>`, 'load in instances at the target'],
    [`<line x1="0" y1="-4" x2="18" y2="-4" stroke="${CHART_COLOURS.backtest}" stroke-width="2"/>`, 'backtest instances'],
    [`<line x1="0" y1="-4" x2="18" y2="-4" stroke="${CHART_COLOURS.actual}" stroke-width="2" stroke-dasharray="5 3"/>`, 'actual instances (recorded tasks)'],
    [`<line x1="0" y1="-4" x2="18" y2="-4" stroke="${CHART_COLOURS.bounds}" stroke-width="2" stroke-dasharray="3 3"/>`, 'min / max'],
  ];
  return entries.map(([mark, label], index) => `<g transform="translate(${PLOT.left + index * 250} ${y})">${mark}<text x="24" y="0">${label}</text></g>`);
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceStep(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= value) as number;
  return Math.max(1, step);
}

function niceCeiling(value: number): number {
  const step = niceStep(value / 6);
  return Math.max(step, Math.ceil(value / step) * step);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}
