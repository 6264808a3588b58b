/** 0.923 → "92%", 0.0042 → "0.4%": enough precision for a person reading why an app scaled. */
export function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${Math.abs(percent) < 10 && percent !== 0 ? percent.toFixed(1).replace(/\.0$/, '') : Math.round(percent)}%`;
}

export function formatRatio(ratio: number): string {
  return ratio.toFixed(2);
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export const METRIC_LABEL = { cpu: 'CPU', memory: 'memory' } as const;
