/** One CSV cell: quoted (quotes doubled) when it holds a quote, a comma or a line break; empty for undefined. */
export function csvCell(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
