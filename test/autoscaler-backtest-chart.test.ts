// The backtest's chart as a person sees it: rendered to PNG by librsvg (rsvg-convert), then read pixel by pixel.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHART_COLOURS, chartGeometry, renderChart, type ChartInput, type ChartPoint } from '../autoscaler/backtest/chart.js';
import { ensureCommand } from './support/debian.js';

const run = promisify(execFile);
const MINUTE = 60_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');
let dir: string;

beforeAll(async () => {
  await ensureCommand('rsvg-convert', 'librsvg2-bin');
  dir = await mkdtemp(path.join(os.tmpdir(), 'baton-chart-'));
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Picture {
  png: PNG;
  /** True when the pixel at (x, y) is within a small distance of `hex`. */
  is(x: number, y: number, hex: string): boolean;
  /** Whether any pixel of the column x between y1 and y2 has the colour. */
  columnHas(x: number, y1: number, y2: number, hex: string): boolean;
}

async function render(input: ChartInput, name: string): Promise<Picture> {
  const svgFile = path.join(dir, `${name}.svg`);
  const pngFile = path.join(dir, `${name}.png`);
  await writeFile(svgFile, renderChart(input));
  await run('rsvg-convert', ['--format', 'png', '--output', pngFile, svgFile]);
  const png = PNG.sync.read(await readFile(pngFile));
  const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const is = (x: number, y: number, hex: string) => {
    const offset = (png.width * Math.round(y) + Math.round(x)) * 4;
    const [r, g, b] = rgb(hex) as [number, number, number];
    return Math.abs((png.data[offset] as number) - r) + Math.abs((png.data[offset + 1] as number) - g) + Math.abs((png.data[offset + 2] as number) - b) < 30;
  };
  const columnHas = (x: number, y1: number, y2: number, hex: string) => {
    for (let y = Math.round(Math.min(y1, y2)); y <= Math.round(Math.max(y1, y2)); y++) if (is(x, y, hex)) return true;
    return false;
  };
  return { png, is, columnHas };
}

/** A day of minutes: load 2 instances until noon, 8 after; the backtest follows 30 minutes late; 2 ran all day; min 1. */
function stepDay(): ChartInput {
  const points: ChartPoint[] = [];
  for (let minute = 0; minute < 24 * 60; minute++) {
    const at = T0 + minute * MINUTE;
    const afternoon = minute >= 12 * 60;
    points.push({ at, needed: afternoon ? 8 : 2, backtest: minute >= 12 * 60 + 30 ? 8 : 2, actual: 2 });
  }
  return { title: '/shop/web: a <step> & a lag', from: T0, to: T0 + 24 * 60 * MINUTE, points, minInstances: 1, maxInstances: 10, actions: [{ at: T0 + 750 * MINUTE, direction: 'up' }] };
}

test('the load, the backtest and what actually ran are where their numbers say', async () => {
  const input = stepDay();
  const picture = await render(input, 'step');
  const { x, y, width, height } = chartGeometry(input);
  expect([picture.png.width, picture.png.height]).toEqual([width, height]);
  const morning = x(T0 + 6 * 60 * MINUTE);
  const evening = x(T0 + 18 * 60 * MINUTE);
  // The load area: filled under 8 in the afternoon, nothing above 2 in the morning.
  expect(picture.is(evening, y(5), CHART_COLOURS.needed)).toBe(true);
  expect(picture.is(morning, y(1), CHART_COLOURS.needed)).toBe(true);
  expect(picture.is(morning, y(5), CHART_COLOURS.needed)).toBe(false);
  // The backtest's line: at 8 in the evening, at 2 in the morning, and not yet at 8 at 12:15.
  expect(picture.columnHas(evening, y(8) - 2, y(8) + 2, CHART_COLOURS.backtest)).toBe(true);
  expect(picture.columnHas(morning, y(2) - 2, y(2) + 2, CHART_COLOURS.backtest)).toBe(true);
  expect(picture.columnHas(x(T0 + 735 * MINUTE), y(8) - 2, y(8) + 2, CHART_COLOURS.backtest)).toBe(false);
  // What actually ran: 2 all day, dashed (some pixels of the row at 2, none at 8).
  let dashes = 0;
  for (let column = Math.round(evening); column < Math.round(evening) + 40; column++) {
    if (picture.columnHas(column, y(2) - 1, y(2) + 1, CHART_COLOURS.actual)) dashes++;
  }
  expect(dashes).toBeGreaterThan(10);
  expect(dashes).toBeLessThan(40);
  expect(picture.columnHas(evening, y(8) - 1, y(8) + 1, CHART_COLOURS.actual)).toBe(false);
  // The max bound, 10, is a dotted line across.
  const maxLine = [0, 1, 2, 3, 4, 5, 6, 7].map((dx) => picture.columnHas(x(T0 + 3 * 60 * MINUTE) + dx, y(10) - 1, y(10) + 1, CHART_COLOURS.bounds));
  expect(maxLine).toContain(true);
  expect(maxLine).toContain(false);
});

test('a gap in the recorded usage stays a gap; a one-minute spike in a month stays visible', async () => {
  const points: ChartPoint[] = [];
  const month = 28 * 24 * 60;
  for (let minute = 0; minute < month; minute++) {
    const day = Math.floor(minute / (24 * 60));
    if (day === 10) continue; // an outage: no data that day
    points.push({ at: T0 + minute * MINUTE, needed: minute === 20 * 24 * 60 + 7 ? 12 : 3, backtest: 3, actual: 3 });
  }
  const input: ChartInput = { title: 'a month', from: T0, to: T0 + month * MINUTE, points, minInstances: 2, maxInstances: 20, actions: [] };
  const svg = renderChart(input);
  expect(Buffer.byteLength(svg)).toBeLessThan(300_000);
  const picture = await render(input, 'month');
  const { x, y } = chartGeometry(input);
  const outage = x(T0 + (10 * 24 + 12) * 60 * MINUTE);
  expect(picture.is(outage, y(1), CHART_COLOURS.needed)).toBe(false);
  expect(picture.is(x(T0 + 5 * 24 * 60 * MINUTE), y(1), CHART_COLOURS.needed)).toBe(true);
  const spike = x(T0 + (20 * 24 * 60 + 7) * MINUTE);
  expect(picture.columnHas(spike, y(11), y(10), CHART_COLOURS.needed) || picture.columnHas(spike + 1, y(11), y(10), CHART_COLOURS.needed)).toBe(true);
  expect(picture.columnHas(spike + 5, y(11), y(10), CHART_COLOURS.needed)).toBe(false);
});

test('no recorded usage still gives a chart that renders, and says so', async () => {
  const input: ChartInput = { title: 'empty', from: T0, to: T0 + 3600_000, points: [], minInstances: 1, maxInstances: 3, actions: [] };
  expect(renderChart(input)).toContain('no recorded usage');
  const picture = await render(input, 'empty');
  expect(picture.png.width).toBe(1200);
});
