import { paint, type Style } from '../terminal/output.js';

export interface Column {
  header: string;
  /** May be cut (with "…") down to this width when the terminal is too narrow. Default: never cut. */
  minWidth?: number;
  /** Columns are dropped lowest first when cutting is not enough; 0 (default) is never dropped. */
  dropPriority?: number;
}

export type Cell = string | { text: string; style?: Style };

const GAP = '  ';

/**
 * A plain-text table that fits `width` (a terminal's columns; Infinity for a pipe): first shrinkable columns are cut, widest
 * first, then optional columns are dropped. Colour is applied after measuring, so it never counts toward the width.
 */
export function formatTable(columns: Column[], rows: Cell[][], options: { width?: number; color?: boolean } = {}): string[] {
  const width = options.width ?? Number.POSITIVE_INFINITY;
  const text = (cell: Cell | undefined) => (cell === undefined ? '' : typeof cell === 'string' ? cell : cell.text);
  let visible = columns.map((_, index) => index);
  const natural = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => text(r[i]).length)));
  let widths = [...natural];

  const total = () => visible.reduce((sum, i) => sum + (widths[i] ?? 0), 0) + GAP.length * Math.max(0, visible.length - 1);
  for (;;) {
    widths = fitByCutting(visible, natural, columns, width - GAP.length * Math.max(0, visible.length - 1));
    if (total() <= width) break;
    const droppable = visible.filter((i) => (columns[i]?.dropPriority ?? 0) > 0);
    if (droppable.length === 0) break;
    const drop = droppable.reduce((a, b) => ((columns[b]?.dropPriority ?? 0) < (columns[a]?.dropPriority ?? 0) ? b : a));
    visible = visible.filter((i) => i !== drop);
  }

  const line = (cells: Cell[], header: boolean) =>
    visible
      .map((i, position) => {
        const cell = cells[i];
        const w = widths[i] ?? 0;
        const cut = fit(text(cell), w);
        const padded = position === visible.length - 1 ? cut : cut.padEnd(w);
        const style = header ? 'bold' : typeof cell === 'object' ? cell.style : undefined;
        return style ? paint(Boolean(options.color), style, padded) : padded;
      })
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => c.header), true), ...rows.map((r) => line(r, false))];
}

/** Cuts the widest shrinkable column one character at a time until the row fits or nothing can be cut any more. */
function fitByCutting(visible: number[], natural: number[], columns: Column[], available: number): number[] {
  const widths = [...natural];
  let sum = visible.reduce((s, i) => s + (widths[i] ?? 0), 0);
  while (sum > available) {
    const candidates = visible.filter((i) => columns[i]?.minWidth !== undefined && (widths[i] ?? 0) > (columns[i]?.minWidth ?? 0));
    if (candidates.length === 0) break;
    const widest = candidates.reduce((a, b) => ((widths[b] ?? 0) > (widths[a] ?? 0) ? b : a));
    widths[widest] = (widths[widest] ?? 0) - 1;
    sum -= 1;
  }
  return widths;
}

function fit(value: string, width: number): string {
  if (value.length <= width) return value;
  if (width <= 1) return value.slice(0, width);
  return `${value.slice(0, width - 1)}…`;
}

/**
 * The width to lay out for: COLUMNS when set (the shell convention, also for pipes), else the terminal's columns on a TTY,
 * else unlimited (pipes and files get whole lines).
 */
export function outputWidth(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  const columns = Number(env.COLUMNS);
  if (Number.isInteger(columns) && columns > 0) return columns;
  return stream.isTTY && stream.columns ? stream.columns : Number.POSITIVE_INFINITY;
}

/** Marathon's ISO timestamps without milliseconds: 2024-05-02 09:14:03Z. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
