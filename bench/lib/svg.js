// A small SVG line chart (no dependency): events/s against event size, log-scaled y, one line
// per consumer. Used for docs/performance-events.svg.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function fmt(n) {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(0)}k`;
  return String(Math.round(n));
}

/** series: [{ name, colour, points: [[x, y], ...] }]; x on a log2 axis, y on a log10 axis. */
export function lineChart({ title, xLabel, yLabel, series, width = 640, height = 400 }) {
  const m = { l: 70, r: 150, t: 40, b: 50 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y > 0);
  const x0 = Math.log2(Math.min(...xs));
  const x1 = Math.log2(Math.max(...xs));
  const y0 = Math.floor(Math.log10(Math.min(...ys)));
  const y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (x) => m.l + ((Math.log2(x) - x0) / (x1 - x0 || 1)) * w;
  const py = (y) => m.t + h - ((Math.log10(y) - y0) / (y1 - y0 || 1)) * h;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.l + w / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${fmt(10 ** e)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${m.t}" y2="${m.t + h}" stroke="#eee"/>`);
    out.push(`<text x="${px(x)}" y="${m.t + h + 16}" text-anchor="middle">${x}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.l + w / 2}" y="${height - 10}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${m.t + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] > 0);
    out.push(
      `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of pts)
      out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${s.colour}"/>`);
    const ly = m.t + 10 + i * 20;
    out.push(
      `<line x1="${m.l + w + 12}" x2="${m.l + w + 32}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2"/>`,
    );
    out.push(`<text x="${m.l + w + 38}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
