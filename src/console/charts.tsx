/**
 * The dashboard's charts as inline SVG drawn on the server: no script, no outside asset, so they
 * render under `default-src 'none'` and on an air-gapped install. Geometry is in attributes
 * (the CSP allows no inline style); colours come from the console's stylesheet by class.
 */
import type { LaunchDay } from "../metrics/dashboard";

const W = 720;
const H = 180;
const PAD = { top: 12, right: 8, bottom: 28, left: 40 };

interface ChartProps {
	id: string;
	title: string;
	days: LaunchDay[];
}

function frame(days: LaunchDay[]) {
	const plotW = W - PAD.left - PAD.right;
	const plotH = H - PAD.top - PAD.bottom;
	const step = plotW / Math.max(days.length, 1);
	return { plotW, plotH, step, baseline: PAD.top + plotH };
}

/** Day labels under the axis: every seventh from the first, and the last (today). */
function DayLabels({ days, step }: { days: LaunchDay[]; step: number }) {
	return (
		<g class="axis">
			{days.map((d, i) =>
				i === days.length - 1 || (i % 7 === 0 && i < days.length - 4) ? (
					<text
						x={(PAD.left + step * i + step / 2).toFixed(1)}
						y={H - 8}
						text-anchor="middle"
						key={d.date}
					>
						{d.date.slice(5)}
					</text>
				) : null,
			)}
		</g>
	);
}

function niceMax(n: number): number {
	if (n <= 5) return 5;
	const magnitude = 10 ** Math.floor(Math.log10(n));
	for (const m of [1, 2, 5, 10]) if (n <= m * magnitude) return m * magnitude;
	return 10 * magnitude;
}

/** Counts per day (signups), one bar each, with the value in each bar's tooltip. */
export function CountChart({
	id,
	title,
	days,
	value,
}: ChartProps & { value: (d: LaunchDay) => number }) {
	const { plotH, step, baseline } = frame(days);
	const max = niceMax(Math.max(0, ...days.map(value)));
	return (
		<figure class="chart" id={id}>
			<figcaption>{title}</figcaption>
			<svg
				viewBox={`0 0 ${W} ${H}`}
				role="img"
				aria-label={title}
				xmlns="http://www.w3.org/2000/svg"
			>
				<line class="grid" x1={PAD.left} x2={W - PAD.right} y1={PAD.top} y2={PAD.top} />
				<line class="grid" x1={PAD.left} x2={W - PAD.right} y1={baseline} y2={baseline} />
				<text class="axis" x={PAD.left - 6} y={PAD.top + 4} text-anchor="end">
					{max}
				</text>
				<text class="axis" x={PAD.left - 6} y={baseline + 4} text-anchor="end">
					0
				</text>
				{days.map((d, i) => {
					const h = (value(d) / max) * plotH;
					return (
						<rect
							class="bar"
							x={(PAD.left + step * i + step * 0.15).toFixed(1)}
							y={(baseline - h).toFixed(1)}
							width={(step * 0.7).toFixed(1)}
							height={h.toFixed(1)}
							data-date={d.date}
							data-value={value(d)}
							key={d.date}
						>
							<title>{`${d.date}: ${value(d)}`}</title>
						</rect>
					);
				})}
				<DayLabels days={days} step={step} />
			</svg>
		</figure>
	);
}

/**
 * A share per day (0–100 %) as a line; a day with nothing to divide (no license created, no
 * checkout) is a gap, not a zero, and its dot is left out.
 */
export function RateChart({
	id,
	title,
	days,
	rate,
	detail,
}: ChartProps & { rate: (d: LaunchDay) => number | null; detail: (d: LaunchDay) => string }) {
	const { plotH, step, baseline } = frame(days);
	const point = (d: LaunchDay, i: number) => {
		const r = rate(d);
		return r === null ? null : { x: PAD.left + step * i + step / 2, y: baseline - r * plotH, d, r };
	};
	const points = days.map(point);
	// Runs of consecutive days with a value, each its own polyline.
	const runs: Array<Array<{ x: number; y: number }>> = [];
	let run: Array<{ x: number; y: number }> = [];
	for (const p of points) {
		if (p) run.push(p);
		else if (run.length > 0) {
			runs.push(run);
			run = [];
		}
	}
	if (run.length > 0) runs.push(run);
	return (
		<figure class="chart" id={id}>
			<figcaption>{title}</figcaption>
			<svg
				viewBox={`0 0 ${W} ${H}`}
				role="img"
				aria-label={title}
				xmlns="http://www.w3.org/2000/svg"
			>
				{[0, 0.5, 1].map((f) => (
					<g key={String(f)}>
						<line
							class="grid"
							x1={PAD.left}
							x2={W - PAD.right}
							y1={baseline - f * plotH}
							y2={baseline - f * plotH}
						/>
						<text class="axis" x={PAD.left - 6} y={baseline - f * plotH + 4} text-anchor="end">
							{`${f * 100}%`}
						</text>
					</g>
				))}
				{runs.map((r) => (
					<polyline
						class="line"
						points={r.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ")}
						key={`${r[0]?.x}`}
					/>
				))}
				{points.map((p) =>
					p ? (
						<circle
							class="dot"
							cx={p.x.toFixed(1)}
							cy={p.y.toFixed(1)}
							r="3"
							data-date={p.d.date}
							data-value={p.r.toFixed(3)}
							key={p.d.date}
						>
							<title>{`${p.d.date}: ${Math.round(p.r * 100)}% (${detail(p.d)})`}</title>
						</circle>
					) : null,
				)}
				<DayLabels days={days} step={step} />
			</svg>
		</figure>
	);
}
