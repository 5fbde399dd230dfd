/**
 * Requests per hour as bars (server errors, client errors and the rest stacked), drawn as plain SVG: no
 * chart library, a few hundred bytes in the admin chunk.
 */
export interface HourBar {
  hour: string;
  count: number;
  errors: number;
  clientErrors: number;
}

const WIDTH = 760;
const HEIGHT = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 24 };
const COLORS = { ok: '#4c6ef5', client: '#fab005', server: '#fa5252' };

export function MetricsChart({ bars, hours }: { bars: HourBar[]; hours: number }) {
  // One slot per hour of the window, oldest left; hours without requests stay empty.
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  const byHour = new Map(bars.map((b) => [new Date(b.hour).getTime(), b]));
  const slots = Array.from({ length: hours }, (_, i) => now.getTime() - (hours - 1 - i) * 3_600_000);
  const max = Math.max(1, ...bars.map((b) => b.count));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slotW = plotW / hours;
  const y = (n: number) => (n / max) * plotH;
  const every = Math.ceil(hours / 8);
  return (
    <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={`Requests per hour, last ${hours} hours`} style={{ maxWidth: WIDTH }}>
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} stroke="#adb5bd" />
      {[0, 0.5, 1].map((f) => (
        <text key={f} x={PAD.left - 6} y={PAD.top + plotH - f * plotH + 4} fontSize={10} textAnchor="end" fill="#868e96">
          {Math.round(max * f)}
        </text>
      ))}
      {slots.map((t, i) => {
        const b = byHour.get(t);
        const x = PAD.left + i * slotW + slotW * 0.1;
        const w = Math.max(1, slotW * 0.8);
        const label = new Date(t).toISOString().slice(5, 13).replace('T', ' ') + 'h';
        const base = PAD.top + plotH;
        const ok = b ? b.count - b.errors - b.clientErrors : 0;
        return (
          <g key={t} data-hour={label}>
            {b ? (
              <>
                <title>{`${label} UTC: ${b.count} requests, ${b.clientErrors} 4xx, ${b.errors} 5xx`}</title>
                <rect x={x} width={w} y={base - y(ok)} height={y(ok)} fill={COLORS.ok} />
                <rect x={x} width={w} y={base - y(ok) - y(b.clientErrors)} height={y(b.clientErrors)} fill={COLORS.client} />
                <rect x={x} width={w} y={base - y(b.count)} height={y(b.errors)} fill={COLORS.server} />
              </>
            ) : null}
            {i % every === 0 ? (
              <text x={x + w / 2} y={HEIGHT - 8} fontSize={10} textAnchor="middle" fill="#868e96">
                {new Date(t).toISOString().slice(11, 13)}h
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}

export const CHART_LEGEND = [
  { label: '2xx/3xx', color: COLORS.ok },
  { label: '4xx', color: COLORS.client },
  { label: '5xx', color: COLORS.server },
];
