// The bench's summary: every row the benchmarks report ({id, measure, ratio | value, target,
// better: 'lower' | 'higher', met}) as a table on stdout and as a small SVG chart, one bar per
// measure on its own scale with its target as a line (green: met, red: missed).
const W = 760;
const ROW = 34;
const LABEL = 70;
const BAR = 420;

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const shown = (r) => (r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : `${r.value} MiB`);
const goal = (r) => `${r.better === 'lower' ? '≤' : '≥'} ${r.ratio !== undefined ? `${r.target}x` : `${r.target} MiB`}`;

export function rowsOf(results) {
  return Object.values(results).flatMap((r) => r.rows ?? []);
}

export function table(rows) {
  const lines = [`${'id'.padEnd(8)}${'measured'.padStart(12)}${'target'.padStart(12)}  met  measure`];
  for (const r of rows)
    lines.push(`${r.id.padEnd(8)}${shown(r).padStart(12)}${goal(r).padStart(12)}  ${r.met ? 'yes' : 'NO '}  ${r.measure}`);
  return lines.join('\n');
}

export function svg(rows, at, stealShare) {
  const h = 48 + rows.length * ROW + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${h}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">npm run bench: each measure against its target (line)</text>`,
    `<text x="10" y="36" fill="#555">${esc(at)} · ratios measured side by side in one run${stealShare === undefined ? '' : ` · steal ${Math.round(stealShare * 100)} %`} · green met, red missed</text>`,
  ];
  rows.forEach((r, i) => {
    const y = 48 + i * ROW;
    const v = r.ratio ?? r.value;
    const max = Math.max(v, r.target) * 1.25;
    const x = (n) => LABEL + (n / max) * BAR;
    parts.push(
      `<text x="10" y="${y + 17}" font-weight="bold">${esc(r.id)}</text>`,
      `<rect x="${LABEL}" y="${y + 5}" width="${(x(v) - LABEL).toFixed(1)}" height="16" fill="${r.met ? '#3a9a4a' : '#c8423b'}"/>`,
      `<line x1="${x(r.target).toFixed(1)}" y1="${y + 1}" x2="${x(r.target).toFixed(1)}" y2="${y + 25}" stroke="#222" stroke-width="2"/>`,
      `<text x="${LABEL + BAR + 8}" y="${y + 17}">${esc(`${shown(r)} (target ${goal(r)})`)}</text>`,
      `<title>${esc(r.measure)}</title>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
