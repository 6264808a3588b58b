// PLACEHOLDER (not committed): the real chart comes from branch backtest-chart.
export interface ChartPoint { at: number; needed?: number; backtest: number; actual?: number }
export interface ChartInput { title: string; from: number; to: number; points: ChartPoint[]; minInstances: number; maxInstances: number; actions: { at: number; direction: 'up' | 'down' }[] }
export function renderChart(input: ChartInput): string { return `<svg xmlns="http://www.w3.org/2000/svg"><!-- ${input.points.length} --></svg>`; }
