/** Number formatting exactly as Redis prints numbers in replies and stored values. */

/** C's printf("%.17g", d): what Redis 7.0 uses for scores and RESP doubles. */
export function formatDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  if (Number.isInteger(d) && Math.abs(d) < 1e17) return String(d);
  const [mantissa, expText] = d.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 17) {
    const m = stripZeros(mantissa);
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${m}e${sign}${abs < 10 ? '0' : ''}${abs}`;
  }
  return stripZeros(d.toFixed(16 - exp));
}

/**
 * The "human" long double format Redis uses for INCRBYFLOAT/HINCRBYFLOAT
 * results (%.17Lf with trailing zeros removed). Node has no long double, so
 * the shortest round-trip digits are used, which is what the long double
 * formatting shows for values that came from decimal input.
 */
export function formatHumanDouble(d: number): string {
  if (d === 0) return '0';
  const s = String(d);
  if (!s.includes('e')) return s;
  const [mantissa, expText] = s.split('e') as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const pointAt = (mantissa.replace('-', '').indexOf('.') < 0 ? mantissa.replace('-', '').length : mantissa.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${out}` : out;
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}
