import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { History } from '../api';

export interface Series {
  readonly label: string;
  readonly history: History;
  readonly className: 'current' | 'restated';
}

const COLOURS = { current: '#1f5fbf', restated: '#c2410c' } as const;

/**
 * The balance over time, one line per known-at. Balances are exact decimal strings; the chart
 * draws them as floats (a picture, not a figure) and the table beside it gives the exact values.
 */
export function HistoryChart({ series, currency }: { series: readonly Series[]; currency: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = box.current;
    if (!target || series.length === 0) return;
    const xs = series[0]!.history.points.map((p) => Date.parse(p.at) / 1000);
    const data: uPlot.AlignedData = [xs, ...series.map((s) => s.history.points.map((p) => Number(p.balance)))];
    const width = () => Math.max(280, target.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 280,
        scales: { x: { time: true } },
        axes: [{}, { label: currency, size: 70 }],
        series: [
          { label: 'UTC' },
          // A balance holds from one instant to the next: steps, not slopes between samples.
          ...series.map((s) => ({
            label: s.label,
            stroke: COLOURS[s.className],
            width: 2,
            points: { show: false },
            paths: uPlot.paths.stepped!({ align: 1 }),
          })),
        ],
        legend: { live: true },
      },
      data,
      target,
    );
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 280 }));
    observer.observe(target);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [series, currency]);
  const labels = series.map((s) => s.label).join(' and ');
  return <div class="chart" ref={box} role="img" aria-label={`Balance over time in ${currency}: ${labels}`} />;
}
