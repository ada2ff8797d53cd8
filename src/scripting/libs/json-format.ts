/** C's printf("%.<p>g"), for cjson's number output (precision 14 by default). */
export function formatG(d: number, precision: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  let s = d.toExponential(precision - 1);
  const e = Number(s.slice(s.indexOf('e') + 1));
  if (e < -4 || e >= precision) {
    const [m, x] = s.split('e') as [string, string];
    const ex = Number(x);
    return `${strip(m)}e${ex < 0 ? '-' : '+'}${Math.abs(ex) < 10 ? '0' : ''}${Math.abs(ex)}`;
  }
  s = d.toFixed(Math.max(0, precision - 1 - e));
  return strip(s);
}

function strip(s: string): string {
  if (!s.includes('.')) return s;
  return s.replace(/\.?0+$/, '');
}
