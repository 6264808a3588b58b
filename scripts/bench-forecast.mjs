// Forecast error on the test data (npm run build first): the predicted floor 10 minutes ahead vs the count the usage then needed.
import { forecastFloor, WEEK_MS } from '../dist/autoscaler/forecast/forecast.js';
// The test data's shape: 1 core, 6 on Mondays 09:00–11:00 UTC, ±10 % noise per 5-min bucket; 4 weeks of history, a 5th to predict.
let state = 7;
const rnd = () => { state = (state + 0x6d2b79f5) | 0; let t = Math.imul(state ^ (state >>> 15), 1 | state); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const start = Date.parse('2026-11-02T00:00:00Z'), B = 300000;
const load = (at) => { const d = new Date(at); const m = d.getUTCHours() * 60 + d.getUTCMinutes(); return d.getUTCDay() === 1 && m >= 540 && m < 660 ? 6 : 1; };
for (const holiday of [false, true]) {
  const history = [];
  for (let at = start; at < start + 5 * WEEK_MS; at += B) {
    if (holiday && at >= start + 2 * WEEK_MS && at < start + 3 * WEEK_MS) continue;
    history.push({ at, cpuCores: load(at) * (0.9 + 0.2 * rnd()) });
  }
  const policy = { minInstances: 2, maxInstances: 30, targetCpu: 0.6, tolerance: 0.1 };
  const need = (cores) => Math.min(30, Math.max(2, Math.ceil(cores / 0.3 - 1e-9)));
  let abs = 0, n = 0, peakAbs = 0, peakN = 0, under = 0, noFloor = 0;
  const byAt = new Map(history.map((p) => [p.at, p.cpuCores]));
  for (let now = start + 4 * WEEK_MS; now < start + 5 * WEEK_MS; now += B) {
    const target = now + 10 * 60000;
    const actual = byAt.get(Math.floor(target / B) * B);
    if (actual === undefined) continue;
    const r = forecastFloor({ now, settings: { lookbackWeeks: 4, leadMinutes: 10, quantile: 0.9, windowMinutes: 10, minWeeks: 2 }, history: history.filter((p) => p.at < now), app: { instances: need(actual), cpus: 0.5, memMiB: 512 }, policy: { ...policy, tolerance: 0 } });
    if (r.kind !== 'floor') { noFloor++; continue; }
    const err = Math.abs(r.predicted.floor - need(actual));
    abs += err; n++; if (r.predicted.floor < need(actual)) under++;
    if (load(target) === 6) { peakAbs += err; peakN++; }
  }
  console.log(JSON.stringify({ holiday, forecasts: n, mae: +(abs / n).toFixed(2), maePeak: +(peakAbs / peakN).toFixed(2), peakForecasts: peakN, underShare: +(under / n).toFixed(3), noFloor }));
}
